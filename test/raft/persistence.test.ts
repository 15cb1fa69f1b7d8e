// Raft thesis §10.2.1: the leader writes its log in parallel with replicating it; nothing
// that promises durable state leaves a node before that state is on disk.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftNode } from '../../src/main/raft/node.js';
import { EntryType, MessageType, NONE, Role } from '../../src/main/raft/types.js';
import { bootstrap, config, msg, persistReady, text } from './harness.js';

function electedLeader(): RaftNode {
  const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
  n.campaign();
  persistReady(n);
  n.step(msg({ type: MessageType.VoteResp, from: 2n, to: 1n, term: 1 }));
  assert.equal(n.role, Role.Leader);
  return n;
}

describe('§10.2.1 persistence before sending', () => {
  test('a vote is sent only after it is durable', () => {
    const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
    n.step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 1 }));
    const rd = n.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: 2n, commit: 0 });
    assert.equal(rd.messages.filter((m) => m.type === MessageType.VoteResp).length, 0);
    assert.equal(rd.messagesAfterPersist.filter((m) => m.type === MessageType.VoteResp && !m.reject).length, 1);
  });

  test('a candidate asks for votes only once its own vote is durable', () => {
    const n = new RaftNode(config(1n), bootstrap([1n, 2n, 3n]));
    n.campaign();
    const rd = n.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: 1n, commit: 0 });
    assert.equal(rd.messages.length, 0);
    assert.equal(rd.messagesAfterPersist.filter((m) => m.type === MessageType.Vote).length, 2);
  });

  test('a follower acknowledges entries only once they are durable', () => {
    const n = new RaftNode(config(2n), bootstrap([1n, 2n, 3n]));
    n.step(
      msg({
        type: MessageType.App,
        from: 1n,
        to: 2n,
        term: 1,
        index: 0,
        logTerm: 0,
        entries: [{ term: 1, index: 1, type: EntryType.Normal, data: text('a') }],
        commit: 1,
      }),
    );
    const rd = n.ready();
    assert.equal(rd.entries.length, 1);
    assert.equal(rd.messages.filter((m) => m.type === MessageType.AppResp).length, 0);
    assert.equal(rd.messagesAfterPersist.filter((m) => m.type === MessageType.AppResp).length, 1);
    assert.equal(rd.committedEntries.length, 0, 'committed but not yet durable here: not handed out');
    n.persisted(1, 1);
    assert.deepEqual(
      n.ready().committedEntries.map((e) => e.index),
      [1],
    );
  });

  test('a Ready whose only change is the commit index need not be synced (MustSync)', () => {
    const n = new RaftNode(config(2n), bootstrap([1n, 2n, 3n]));
    const entry = { term: 1, index: 1, type: EntryType.Normal, data: text('a') };
    n.step(msg({ type: MessageType.App, from: 1n, to: 2n, term: 1, index: 0, logTerm: 0, entries: [entry], commit: 0 }));
    const appended = n.ready();
    assert.equal(appended.mustSync, true, 'new entries, a new term');
    n.persisted(1, 1);
    n.step(msg({ type: MessageType.Heartbeat, from: 1n, to: 2n, term: 1, commit: 1 }));
    const committed = n.ready();
    assert.deepEqual(committed.hardState, { term: 1, vote: NONE, commit: 1 });
    assert.equal(committed.mustSync, false);
    assert.deepEqual(committed.committedEntries.map((e) => e.index), [1]);
    n.step(msg({ type: MessageType.Vote, from: 3n, to: 2n, term: 2, index: 1, logTerm: 1 }));
    assert.equal(n.ready().mustSync, true, 'a vote in a new term');
  });

  test('a Ready with messages after persist always has a HardState to write', () => {
    const n = new RaftNode(config(2n), bootstrap([1n, 2n, 3n]));
    const app = msg({ type: MessageType.App, from: 1n, to: 2n, term: 1, index: 0, logTerm: 0, entries: [], commit: 0 });
    n.step(app);
    persistReady(n);
    n.step(app); // a duplicate: nothing new to write, but the answer must still wait for earlier writes
    const rd = n.ready();
    assert.equal(rd.messagesAfterPersist.length, 1);
    assert.ok(rd.hardState !== undefined);
    assert.equal(rd.mustSync, false, 'the answer waits for earlier writes, not for one of its own');
  });

  test('the leader replicates before its own write is durable; its own match advances only on persisted()', () => {
    const n = electedLeader();
    persistReady(n); // the no-op
    n.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    n.propose([text('x')]);
    const rd = n.ready();
    assert.deepEqual(
      rd.entries.map((e) => e.index),
      [2],
    );
    assert.equal(rd.messages.filter((m) => m.type === MessageType.App && m.entries.length === 1).length, 1, 'sent at once');
    assert.equal(n.status().progress!.get(1n)!.match, 1);
    n.persisted(2, 1);
    assert.equal(n.status().progress!.get(1n)!.match, 2);
  });

  test('committed entries are handed out once, and only when durable here', () => {
    const n = electedLeader();
    persistReady(n);
    n.propose([text('x')]);
    n.ready(); // not persisted yet
    n.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 1, index: 2 }));
    n.step(msg({ type: MessageType.AppResp, from: 3n, to: 1n, term: 1, index: 2 }));
    assert.equal(n.status().commit, 2, 'committed by the followers alone');
    let rd = n.ready();
    assert.deepEqual(
      rd.committedEntries.map((e) => e.index),
      [1],
      'entry 2 is not durable on the leader yet',
    );
    n.persisted(2, 1);
    rd = n.ready();
    assert.deepEqual(
      rd.committedEntries.map((e) => e.index),
      [2],
    );
    assert.equal(n.hasReady(), false);
  });

  test('a single voter becomes leader at once, but sends nothing before its term is durable', () => {
    const n = new RaftNode(config(1n), bootstrap([1n], [2n]));
    n.campaign();
    assert.equal(n.role, Role.Leader);
    const rd = n.ready();
    assert.equal(rd.messages.length, 0);
    assert.ok(rd.messagesAfterPersist.some((m) => m.type === MessageType.App && m.to === 2n));
    n.persisted(1, 1);
    assert.equal(n.status().commit, 1);
    n.step(msg({ type: MessageType.AppResp, from: 2n, to: 1n, term: 1, index: 1 }));
    n.ready();
    n.propose([text('x')]);
    assert.ok(n.ready().messages.some((m) => m.type === MessageType.App), 'term durable: sent at once');
  });

  test('a stale persisted() report for a replaced suffix is ignored', () => {
    const n = new RaftNode(config(2n), bootstrap([1n, 2n, 3n]));
    const e = (index: number, term: number) => ({ term, index, type: EntryType.Normal, data: text(`${index}@${term}`) });
    n.step(msg({ type: MessageType.App, from: 1n, to: 2n, term: 1, index: 0, logTerm: 0, entries: [e(1, 1), e(2, 1)] }));
    n.ready();
    n.step(msg({ type: MessageType.App, from: 3n, to: 2n, term: 2, index: 1, logTerm: 1, entries: [e(2, 2)], commit: 2 }));
    n.ready();
    n.persisted(2, 1); // the first write finished: its entry 2 was replaced since
    assert.equal(n.ready().committedEntries.length, 0, 'index 2 (term 2) is not durable yet');
    n.persisted(2, 2);
    assert.deepEqual(
      n.ready().committedEntries.map((x) => [x.index, x.term]),
      [
        [1, 1],
        [2, 2],
      ],
    );
  });
});

describe('restart', () => {
  test('resumes from the durable state: applied entries are not handed out again', () => {
    const n = new RaftNode(config(1n), {
      hardState: { term: 3, vote: 1n, commit: 3 },
      snapshot: { index: 1, term: 1, conf: { voters: [1n, 2n, 3n], learners: [] } },
      entries: [
        { term: 2, index: 2, type: EntryType.Normal, data: text('b') },
        { term: 3, index: 3, type: EntryType.Normal, data: text('c') },
        { term: 3, index: 4, type: EntryType.Normal, data: text('d') },
      ],
      applied: 2,
    });
    assert.equal(n.term, 3);
    assert.equal(n.status().vote, 1n);
    assert.deepEqual(
      n.ready().committedEntries.map((e) => e.index),
      [3],
    );
  });

  test('an applied index beyond the durable commit counts as committed', () => {
    const n = new RaftNode(config(1n), {
      hardState: { term: 1, vote: NONE, commit: 1 },
      snapshot: { index: 0, term: 0, conf: { voters: [1n], learners: [] } },
      entries: [
        { term: 1, index: 1, type: EntryType.Normal, data: text('a') },
        { term: 1, index: 2, type: EntryType.Normal, data: text('b') },
      ],
      applied: 2,
    });
    assert.equal(n.status().commit, 2);
    assert.equal(n.ready().committedEntries.length, 0);
  });
});
