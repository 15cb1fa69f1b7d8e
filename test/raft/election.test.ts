// Raft §5.2 leader election, §5.4.1 election restriction, thesis §9.6 pre-vote, §6.2 check-quorum.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftNode } from '../../src/main/raft/node.js';
import { MessageType, NONE, Role } from '../../src/main/raft/types.js';
import { bootstrap, Cluster, config, msg, persistReady, text } from './harness.js';

describe('§5.2 leader election', () => {
  test('a follower that hears nothing campaigns after a randomized timeout in [electionTick, 2*electionTick)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const n = new RaftNode(config(1n, {}, seed), bootstrap([1n, 2n, 3n]));
      let ticks = 0;
      while (n.role === Role.Follower) {
        n.tick();
        ticks++;
      }
      assert.ok(ticks >= 10 && ticks < 20, `campaigned after ${ticks} ticks`);
      assert.equal(n.role, Role.Candidate);
      assert.equal(n.term, 1);
    }
  });

  test('a candidate that wins a majority becomes leader and appends an empty entry of its term', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    assert.equal(c.node(1n).term, 1);
    assert.equal(c.node(2n).leader, 1n);
    const noop = c.peer(2n).applied.at(-1)!;
    assert.deepEqual([noop.index, noop.term, noop.data.length], [1, 1, 0]);
  });

  test('election safety: a node grants at most one vote per term', () => {
    const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
    n.step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 1 }));
    n.step(msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 1 }));
    const rd = n.ready();
    const answers = rd.messagesAfterPersist.filter((m) => m.type === MessageType.VoteResp);
    assert.deepEqual(
      answers.map((m) => [m.to, m.reject]),
      [
        [2n, false],
        [3n, true],
      ],
    );
    assert.equal(rd.hardState?.vote, 2n);
  });

  test('election safety: competing candidates never produce two leaders in one term', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
      c.node(1n).campaign();
      c.node(2n).campaign();
      c.node(3n).campaign();
      c.stabilize();
      const byTerm = new Map<number, number>();
      for (const p of c.peers.values()) if (p.node.role === Role.Leader) byTerm.set(p.node.term, (byTerm.get(p.node.term) ?? 0) + 1);
      for (const count of byTerm.values()) assert.equal(count, 1);
    }
  });

  test('a candidate that loses steps down to follower', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.node(1n).propose([text('x')]);
    c.stabilize();
    // Node 3 missed everything and campaigns: its log is behind, both others refuse.
    const lagging = new RaftNode(config(3n), bootstrap([1n, 2n, 3n]));
    c.peer(3n).node = lagging;
    lagging.step(msg({ type: MessageType.Hup, from: 3n, to: 3n }));
    c.stabilize();
    assert.notEqual(lagging.role, Role.Candidate);
    assert.equal(c.leaders().length, 1);
  });
});

describe('§5.4.1 election restriction', () => {
  test('a voter refuses a candidate whose log is less up to date', () => {
    const n = new RaftNode(config(1n), {
      ...bootstrap([1n, 2n, 3n]),
      hardState: { term: 2, vote: NONE, commit: 0 },
      entries: [{ term: 2, index: 1, type: 0, data: text('a') }],
    });
    // Same last term, shorter log.
    n.step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 3, index: 0, logTerm: 2 }));
    // Longer log but older last term.
    n.step(msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 4, index: 5, logTerm: 1 }));
    const votes = n.ready().messagesAfterPersist.filter((m) => m.type === MessageType.VoteResp);
    assert.deepEqual(
      votes.map((m) => m.reject),
      [true, true],
    );
  });

  test('leader completeness: only a node holding every committed entry can win', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    c.node(1n).propose([text('committed')]);
    c.stabilize();
    c.heal();
    c.isolate(1n);
    // 3 lacks the committed entry: 2 refuses it; 2 has it and wins.
    c.node(3n).campaign();
    c.stabilize();
    assert.notEqual(c.node(3n).role, Role.Leader);
    c.node(2n).campaign();
    c.stabilize();
    assert.equal(c.node(2n).role, Role.Leader);
  });
});

describe('thesis §9.6 pre-vote', () => {
  test('a partitioned node does not bump its term, and does not disrupt the leader when it returns', () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: true, checkQuorum: true });
    c.elect(1n);
    const term = c.node(1n).term;
    c.isolate(3n);
    for (let i = 0; i < 100; i++) {
      c.tick([3n]);
      c.stabilize();
    }
    assert.equal(c.node(3n).term, term, 'pre-candidate kept its term');
    assert.equal(c.node(3n).role, Role.PreCandidate);
    c.heal();
    c.tick([1n]); // heartbeat
    c.stabilize();
    assert.equal(c.node(1n).role, Role.Leader);
    assert.equal(c.node(1n).term, term);
    assert.equal(c.node(3n).role, Role.Follower);
    assert.equal(c.node(3n).leader, 1n);
  });

  test('a pre-vote is refused while the voter has heard from a leader within the election timeout', () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: true });
    c.elect(1n);
    c.node(2n).step(msg({ type: MessageType.PreVote, from: 3n, to: 2n, term: c.node(2n).term + 1, index: 9, logTerm: 9 }));
    const rd = c.node(2n).ready();
    assert.equal([...rd.messages, ...rd.messagesAfterPersist].filter((m) => m.type === MessageType.PreVoteResp && !m.reject).length, 0);
  });

  test('a pre-candidate that wins the pre-vote campaigns for real', () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: true });
    c.elect(1n);
    assert.equal(c.node(1n).term, 1);
    const before = c.delivered.filter((m) => m.type === MessageType.PreVote).length;
    assert.ok(before >= 2);
  });
});

describe('§6.2 check-quorum', () => {
  test('a leader that has not heard from a majority within an election timeout steps down', () => {
    const c = new Cluster([1n, 2n, 3n], { checkQuorum: true });
    c.elect(1n);
    c.isolate(1n);
    for (let i = 0; i < 2 * 10 && c.node(1n).role === Role.Leader; i++) {
      c.tick([1n]);
      c.stabilize();
    }
    assert.equal(c.node(1n).role, Role.Follower);
    assert.equal(c.node(1n).leader, NONE);
  });

  test('leader lease: followers ignore a vote while their leader is alive', () => {
    const c = new Cluster([1n, 2n, 3n], { checkQuorum: true });
    c.elect(1n);
    const term = c.node(2n).term;
    c.node(2n).step(msg({ type: MessageType.Vote, from: 3n, to: 2n, term: term + 5, index: 100, logTerm: 100 }));
    assert.equal(c.node(2n).term, term, 'term not bumped');
    assert.equal(c.node(2n).hasReady(), false, 'no answer at all');
  });

  test('a leader hearing from a majority stays', () => {
    const c = new Cluster([1n, 2n, 3n], { checkQuorum: true });
    c.elect(1n);
    for (let i = 0; i < 50; i++) {
      c.tick([1n]);
      c.stabilize();
    }
    assert.equal(c.node(1n).role, Role.Leader);
  });
});

describe('restart', () => {
  test('a restarted node remembers its vote', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.node(1n).step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 1 }));
    c.processReadies();
    c.peer(1n).restart();
    c.node(1n).step(msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 1 }));
    const rd = persistReady(c.node(1n));
    const resp = rd.messagesAfterPersist.find((m) => m.type === MessageType.VoteResp)!;
    assert.equal(resp.reject, true);
    assert.equal(c.node(1n).term, 1);
  });
});
