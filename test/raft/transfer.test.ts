// Raft thesis §3.10: leadership transfer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDropped } from '../../src/main/raft/node.js';
import { MessageType, Role } from '../../src/main/raft/types.js';
import { Cluster, text } from './harness.js';

describe('§3.10 leadership transfer', () => {
  test('to an up-to-date follower: it campaigns at once and wins, even with check-quorum and pre-vote', () => {
    const c = new Cluster([1n, 2n, 3n], { checkQuorum: true, preVote: true });
    c.elect(1n);
    const term = c.node(1n).term;
    c.node(1n).transferLeader(3n);
    c.stabilize();
    assert.equal(c.node(3n).role, Role.Leader);
    assert.equal(c.node(3n).term, term + 1, 'no pre-vote round: straight to the next term');
    assert.equal(c.node(1n).leader, 3n);
    const vote = c.delivered.find((m) => m.type === MessageType.Vote && m.from === 3n)!;
    assert.ok(vote.context !== undefined && vote.context.length > 0, 'the vote carries the transfer flag');
  });

  test('to a lagging follower: the leader catches it up first', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    c.node(1n).propose([text('a'), text('b')]);
    c.stabilize();
    c.heal();
    c.node(1n).transferLeader(3n);
    c.stabilize();
    assert.equal(c.node(3n).role, Role.Leader);
    assert.equal(c.peer(3n).applied.filter((e) => e.data.length > 0).length, 2);
  });

  test('proposals are refused while a transfer is in progress', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    c.node(1n).transferLeader(3n);
    assert.throws(
      () => c.node(1n).propose([text('x')]),
      (e: unknown) => e instanceof ProposalDropped && e.reason === 'transfer-in-progress',
    );
  });

  test('a transfer that does not finish within an election timeout is abandoned', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    c.node(1n).transferLeader(3n);
    for (let i = 0; i < 10; i++) {
      c.tick([1n]);
      c.stabilize();
    }
    assert.equal(c.node(1n).role, Role.Leader);
    c.node(1n).propose([text('accepted again')]);
  });

  test('a follower may ask for leadership for itself', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.node(2n).transferLeader(2n);
    c.stabilize();
    assert.equal(c.node(2n).role, Role.Leader);
    assert.throws(() => c.node(3n).transferLeader(1n), ProposalDropped);
  });
});
