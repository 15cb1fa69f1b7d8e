// Raft §5.3 log replication and log matching, §5.4.2 committing entries from previous terms,
// flow control (probe / replicate / in-flight window), proposals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftInvariantViolation } from '../../src/main/raft/errors.js';
import { RaftLog } from '../../src/main/raft/log.js';
import { ProposalDropped, RaftNode } from '../../src/main/raft/node.js';
import type { Entry, Message, NodeId } from '../../src/main/raft/types.js';
import { EntryType, MessageType, NONE, Role } from '../../src/main/raft/types.js';
import { bootstrap, Cluster, config, msg, persistReady, str, text } from './harness.js';

function entries(terms: number[], from = 1): Entry[] {
  return terms.map((term, i) => ({ term, index: from + i, type: EntryType.Normal, data: text(`${from + i}@${term}`) }));
}

/** A node restored with `terms` as its log, elected leader of `term` with the help of node 2. */
function leaderWithLog(terms: number[], term: number, overrides = {}): RaftNode {
  const n = new RaftNode(config(1n, overrides), {
    ...bootstrap([1n, 2n, 3n]),
    hardState: { term: term - 1, vote: NONE, commit: 0 },
    entries: entries(terms),
  });
  n.campaign();
  persistReady(n);
  n.step(msg({ type: MessageType.VoteResp, from: 2n, to: 1n, term }));
  assert.equal(n.role, Role.Leader);
  return n;
}

function sentTo(msgs: Message[], to: NodeId, type = MessageType.App): Message[] {
  return msgs.filter((m) => m.to === to && m.type === type);
}

describe('§5.3 log replication', () => {
  test('entries proposed on any node are replicated and applied in the same order everywhere', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.node(1n).propose([text('a'), text('b')]);
    c.node(3n).propose([text('c')]);
    c.stabilize();
    for (const id of [1n, 2n, 3n]) {
      assert.deepEqual(
        c.peer(id).applied.filter((e) => e.data.length > 0).map((e) => str(e.data)),
        ['a', 'b', 'c'],
      );
    }
  });

  test('a follower forwards many proposed entries to the leader as one MsgProp', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.node(2n).propose([text('x'), text('y'), text('z')]);
    const props = c.node(2n).ready().messages.filter((m) => m.type === MessageType.Prop);
    assert.equal(props.length, 1);
    assert.equal(props[0]!.to, 1n);
    assert.equal(props[0]!.entries.length, 3);
  });

  test('log matching: a follower refuses an append whose previous entry does not match', () => {
    const n = new RaftNode(config(2n), { ...bootstrap([1n, 2n, 3n]), entries: entries([1, 1]) });
    n.step(msg({ type: MessageType.App, from: 1n, to: 2n, term: 3, index: 2, logTerm: 2, entries: entries([3], 3) }));
    const resp = n.ready().messagesAfterPersist.find((m) => m.type === MessageType.AppResp)!;
    assert.equal(resp.reject, true);
    assert.equal(resp.index, 2);
    assert.equal(n.status().lastIndex, 2, 'nothing appended');
  });

  test('log matching: a conflicting suffix is replaced by the leader\'s entries', () => {
    const n = new RaftNode(config(2n), { ...bootstrap([1n, 2n, 3n]), entries: entries([1, 1, 1, 1]) });
    n.step(msg({ type: MessageType.App, from: 1n, to: 2n, term: 2, index: 1, logTerm: 1, entries: entries([2], 2), commit: 1 }));
    const rd = n.ready();
    assert.deepEqual(
      rd.entries.map((e) => [e.index, e.term]),
      [[2, 2]],
      'the Ready replaces the log from index 2',
    );
    assert.equal(n.status().lastIndex, 2);
    assert.equal(rd.messagesAfterPersist.find((m) => m.type === MessageType.AppResp)!.index, 2);
  });

  test('a committed entry is never replaced (invariant checked in the log itself)', () => {
    const log = new RaftLog({ ...bootstrap([1n]), entries: entries([1, 1]), hardState: { term: 1, vote: NONE, commit: 2 } });
    assert.throws(() => log.maybeAppend(1, 1, 0, entries([2], 2)), RaftInvariantViolation);
    assert.throws(() => log.commitTo(5), RaftInvariantViolation);
  });

  test('a follower commits only up to the last entry the leader sent it (its log may differ beyond)', () => {
    const n = new RaftNode(config(2n), { ...bootstrap([1n, 2n, 3n]), entries: entries([1, 1, 2]), hardState: { term: 2, vote: NONE, commit: 0 } });
    n.step(msg({ type: MessageType.App, from: 1n, to: 2n, term: 3, index: 1, logTerm: 1, entries: entries([1], 2), commit: 3 }));
    assert.equal(n.status().commit, 2, 'entry 3 (term 2) may not be the leader\'s entry 3');
  });

  test('fast backtracking: a diverged follower is found in a few round trips, not one per entry', () => {
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followerTerms = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3];
    const leader = leaderWithLog(leaderTerms, 7);
    const follower = new RaftNode(config(2n), { ...bootstrap([1n, 2n, 3n]), entries: entries(followerTerms), hardState: { term: 6, vote: NONE, commit: 3 } });
    let rejects = 0;
    let toFollower = sentTo(persistReady(leader).messages, 2n);
    for (let round = 0; round < 20 && toFollower.length > 0; round++) {
      for (const m of toFollower) follower.step(m);
      const answers = persistReady(follower).messagesAfterPersist.filter((m) => m.type === MessageType.AppResp);
      for (const a of answers) {
        if (a.reject) rejects++;
        leader.step(a);
      }
      toFollower = sentTo(persistReady(leader).messages, 2n);
    }
    assert.ok(rejects <= 2, `${rejects} rejections`);
    assert.equal(leader.status().progress!.get(2n)!.match, leaderTerms.length + 1);
    assert.equal(follower.status().lastIndex, leaderTerms.length + 1);
  });
});

describe('§5.4.2 committing entries from previous terms', () => {
  test('a leader does not commit an entry of an earlier term by counting replicas', () => {
    // Figure 8: entry 2 (term 2) is on a majority, but only an entry of the current term commits it.
    const leader = leaderWithLog([1, 2], 3);
    persistReady(leader); // own no-op (index 3, term 3) durable
    leader.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 3, index: 2 }));
    assert.equal(leader.status().commit, 0, 'entry 2 of term 2 is on two nodes but not committed');
    leader.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 3, index: 3 }));
    assert.equal(leader.status().commit, 3, 'committing the no-op commits everything before it');
  });
});

describe('flow control', () => {
  test('probe state: one append at a time until the follower answers', () => {
    const leader = leaderWithLog([], 1);
    persistReady(leader);
    leader.propose([text('a')]);
    leader.propose([text('b')]);
    const apps = sentTo(persistReady(leader).messages, 3n);
    assert.equal(apps.length, 0, 'the probe (no-op) is still unanswered');
  });

  test('replicate state: at most maxInflightMessages appends in flight, each within maxSizePerMessage', () => {
    const leader = leaderWithLog([], 1, { maxInflightMessages: 3, maxSizePerMessage: 2 });
    persistReady(leader);
    leader.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    assert.equal(leader.status().progress!.get(2n)!.state, 'replicate');
    for (let i = 0; i < 10; i++) leader.propose([text('1'), text('2'), text('3')]);
    const apps = sentTo(persistReady(leader).messages, 2n).filter((m) => m.entries.length > 0);
    assert.equal(apps.length, 3);
    for (const m of apps) {
      assert.ok(m.entries.length >= 1);
      assert.ok(m.entries.reduce((s, e) => s + e.data.length, 0) <= 2);
    }
    // Acknowledging the first frees one slot: exactly one more append goes out.
    leader.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 1, index: apps[0]!.index + apps[0]!.entries.length }));
    assert.equal(sentTo(persistReady(leader).messages, 2n).filter((m) => m.entries.length > 0).length, 1);
  });

  test('a single entry larger than maxSizePerMessage is still sent', () => {
    const c = new Cluster([1n, 2n], { maxSizePerMessage: 1 });
    c.elect(1n);
    c.node(1n).propose([text('a large entry')]);
    c.stabilize();
    assert.equal(str(c.peer(2n).applied.at(-1)!.data), 'a large entry');
  });
});

describe('proposals', () => {
  test('dropped without a leader', () => {
    const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
    assert.throws(() => n.propose([text('x')]), (e: unknown) => e instanceof ProposalDropped && e.reason === 'no-leader');
  });

  test('dropped when the uncommitted tail exceeds maxUncommittedSize', () => {
    const c = new Cluster([1n, 2n, 3n], { maxUncommittedSize: 10 });
    c.elect(1n);
    c.isolate(1n);
    c.node(1n).propose([text('123456')]);
    assert.throws(() => c.node(1n).propose([text('123456')]), (e: unknown) => e instanceof ProposalDropped && e.reason === 'uncommitted-size-exceeded');
    c.heal();
    c.tick([1n]);
    c.stabilize();
    c.node(1n).propose([text('123456')]); // committed entries no longer count
  });
});
