// Raft thesis §4.1: single-server membership changes (and learners, as in etcd).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDropped, RaftNode } from '../../src/main/raft/node.js';
import { ConfChangeType, EntryType, MessageType, NONE, Role } from '../../src/main/raft/types.js';
import { bootstrap, Cluster, config, encodeConfChange, str, text } from './harness.js';

function change(c: Cluster, leader: bigint, type: ConfChangeType, id: bigint): void {
  c.node(leader).proposeConfChange(encodeConfChange(type, id));
  c.stabilize();
}

describe('§4.1 membership changes', () => {
  test('a learner catches up and replicates, but neither votes nor counts for the quorum', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.add(4n, {}, bootstrap([1n, 2n, 3n]));
    change(c, 1n, ConfChangeType.AddLearnerNode, 4n);
    assert.deepEqual(c.peer(1n).conf, { voters: [1n, 2n, 3n], learners: [4n] });
    c.node(1n).propose([text('x')]);
    c.stabilize();
    assert.equal(str(c.peer(4n).applied.at(-1)!.data), 'x');
    // Only the learner and the leader are reachable: no quorum, nothing commits.
    c.isolate(2n);
    c.isolate(3n);
    c.node(1n).propose([text('y')]);
    c.stabilize();
    assert.notEqual(str(c.peer(4n).applied.at(-1)!.data), 'y');
    // A learner never campaigns.
    c.tick([4n], 100);
    c.stabilize();
    assert.equal(c.node(4n).role, Role.Follower);
    assert.equal(c.delivered.filter((m) => m.from === 4n && (m.type === MessageType.Vote || m.type === MessageType.PreVote)).length, 0);
  });

  test('adding a voter grows the quorum; promoting a learner makes it a voter', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.add(4n, {}, bootstrap([1n, 2n, 3n]));
    change(c, 1n, ConfChangeType.AddLearnerNode, 4n);
    change(c, 1n, ConfChangeType.AddNode, 4n);
    assert.deepEqual(c.peer(4n).conf, { voters: [1n, 2n, 3n, 4n], learners: [] });
    // Quorum is now 3 of 4: with 3 and 4 cut off, nothing commits.
    c.isolate(3n);
    c.isolate(4n);
    const commit = c.node(1n).status().commit;
    c.node(1n).propose([text('needs 3 of 4')]);
    c.stabilize();
    assert.equal(c.node(1n).status().commit, commit);
    c.heal();
    c.tick([1n]);
    c.stabilize();
    assert.ok(c.node(1n).status().commit > commit);
  });

  test('only one membership change may be pending at a time', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(1n);
    c.node(1n).proposeConfChange(encodeConfChange(ConfChangeType.AddLearnerNode, 4n));
    assert.throws(
      () => c.node(1n).proposeConfChange(encodeConfChange(ConfChangeType.AddLearnerNode, 5n)),
      (e: unknown) => e instanceof ProposalDropped && e.reason === 'conf-change-pending',
    );
  });

  test('removing a follower shrinks the quorum', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    change(c, 1n, ConfChangeType.RemoveNode, 3n);
    c.isolate(3n);
    c.node(1n).propose([text('2 of 2')]);
    c.stabilize();
    assert.equal(str(c.peer(2n).applied.at(-1)!.data), '2 of 2');
  });

  test('a removed leader steps down, and the others elect a new one', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    change(c, 1n, ConfChangeType.RemoveNode, 1n);
    assert.equal(c.node(1n).role, Role.Follower);
    assert.deepEqual(c.peer(2n).conf.voters, [2n, 3n]);
    c.tick([1n], 100); // never campaigns again
    c.stabilize();
    assert.equal(c.node(1n).role, Role.Follower);
    for (let i = 0; i < 40 && c.leaders().length === 0; i++) {
      c.tick([2n, 3n]);
      c.stabilize();
    }
    assert.equal(c.leaders().length, 1);
    assert.notEqual(c.leaders()[0], 1n);
  });

  test('a node with a committed but unapplied membership change does not campaign', () => {
    const n = new RaftNode(config(2n), {
      ...bootstrap([1n, 2n, 3n]),
      hardState: { term: 1, vote: NONE, commit: 2 },
      entries: [
        { term: 1, index: 1, type: EntryType.Normal, data: text('a') },
        { term: 1, index: 2, type: EntryType.ConfChange, data: encodeConfChange(ConfChangeType.AddLearnerNode, 4n) },
      ],
      applied: 1,
    });
    n.campaign();
    assert.equal(n.role, Role.Follower);
    n.ready();
    n.applied(2);
    n.campaign();
    assert.notEqual(n.role, Role.Follower);
  });
});
