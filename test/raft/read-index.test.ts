// Raft thesis §6.4: linearizable reads with ReadIndex.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDropped, RaftNode } from '../../src/main/raft/node.js';
import { MessageType, NONE, Role } from '../../src/main/raft/types.js';
import { bootstrap, Cluster, config, msg, persistReady, str, text } from './harness.js';

describe('§6.4 ReadIndex', () => {
  test('the leader answers with its commit index once a majority acknowledged a heartbeat round', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.node(1n).propose([text('x')]);
    c.stabilize();
    const commit = c.node(1n).status().commit;
    c.node(1n).readIndex(text('r'));
    const rd = c.node(1n).ready();
    assert.equal(rd.readStates.length, 0, 'not answered before the round');
    const heartbeats = rd.messages.filter((m) => m.type === MessageType.Heartbeat);
    assert.equal(heartbeats.length, 2);
    c.queue.push(...rd.messages);
    c.stabilize();
    assert.deepEqual(
      c.peer(1n).readStates.map((s) => [s.index, str(s.context)]),
      [[commit, 'r']],
    );
  });

  test('one acknowledgement short of a majority: no answer', () => {
    const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
    c.elect(1n);
    c.isolate(3n);
    c.isolate(4n);
    c.isolate(5n);
    c.cut.delete('1>2');
    c.cut.delete('2>1');
    c.node(1n).readIndex(text('r'));
    c.stabilize();
    assert.equal(c.peer(1n).readStates.length, 0);
    c.heal();
    c.tick([1n]); // the next heartbeat carries the round again
    c.stabilize();
    assert.equal(c.peer(1n).readStates.length, 1);
  });

  test('reads arriving together share one heartbeat round', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    for (let i = 0; i < 10; i++) c.node(1n).readIndex(text(`r${i}`));
    const heartbeats = c.node(1n).ready().messages.filter((m) => m.type === MessageType.Heartbeat);
    assert.equal(heartbeats.length, 2, 'one round: one heartbeat per follower');
    c.queue.push(...heartbeats);
    c.stabilize();
    assert.equal(c.peer(1n).readStates.length, 10);
  });

  test('a new leader postpones reads until it has committed an entry of its term', () => {
    const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
    n.campaign();
    persistReady(n);
    n.step(msg({ type: MessageType.VoteResp, from: 2n, to: 1n, term: 1 }));
    assert.equal(n.role, Role.Leader);
    persistReady(n);
    n.readIndex(text('early'));
    let rd = persistReady(n);
    assert.equal(rd.messages.filter((m) => m.type === MessageType.Heartbeat).length, 0, 'no round yet');
    n.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    assert.equal(n.status().commit, 1);
    rd = persistReady(n);
    const hb = rd.messages.filter((m) => m.type === MessageType.Heartbeat);
    assert.equal(hb.length, 2, 'the round starts once the no-op commits');
    n.step(msg({ type: MessageType.HeartbeatResp, from: 2n, to: 1n, term: 1, context: hb[0]!.context! }));
    assert.deepEqual(
      n.ready().readStates.map((s) => [s.index, str(s.context)]),
      [[1, 'early']],
    );
  });

  test('a single voter answers at once (after committing in its term)', () => {
    const c = new Cluster([1n]);
    c.elect(1n);
    c.stabilize();
    c.node(1n).readIndex(text('solo'));
    const rd = c.node(1n).ready();
    assert.deepEqual(
      rd.readStates.map((s) => str(s.context)),
      ['solo'],
    );
  });

  test('a follower forwards the read; the answer comes back as a ReadState on the follower', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.node(3n).readIndex(text('via-follower'));
    c.stabilize();
    assert.deepEqual(
      c.peer(3n).readStates.map((s) => [s.index, str(s.context)]),
      [[c.node(1n).status().commit, 'via-follower']],
    );
    assert.equal(c.peer(1n).readStates.length, 0);
  });

  test('a read without a leader is refused', () => {
    const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
    assert.equal(n.leader, NONE);
    assert.throws(() => n.readIndex(text('r')), ProposalDropped);
  });

  test('a deposed leader cannot confirm a read', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(1n);
    c.elect(2n);
    c.node(2n).propose([text('new')]);
    c.stabilize();
    c.node(1n).readIndex(text('stale'));
    c.heal();
    c.stabilize();
    c.tick([1n]); // retries the round: still unconfirmed
    c.stabilize();
    c.tick([2n]); // the new leader's heartbeat deposes it
    c.stabilize();
    assert.equal(c.peer(1n).readStates.length, 0);
    assert.equal(c.node(1n).role, Role.Follower);
  });
});
