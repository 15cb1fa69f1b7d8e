// Watch as etcd serves it, through the hub and a real fan-out worker on a real store (no gRPC, no
// Raft): created/canceled answers, ranges, start revisions, filters, prev_kv, compaction, progress,
// fragments, and the guarantees (ordered, unique, atomic, reliable, resumable) when a consumer is
// slow, when the worker is lapped by the ring, and when the store is replaced by a snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MvccStore } from '../../src/storage/mvcc/index.js';
import { TempEnv, b } from '../storage/helpers.js';
import { Harness, type TestStream } from './harness.js';

function withHub(name: string, fn: (h: Harness) => Promise<void>, options: ConstructorParameters<typeof Harness>[0] = {}): void {
  it(name, async () => {
    const h = new Harness(options);
    try {
      await fn(h);
    } finally {
      await h.dispose();
    }
  });
}

const put = (h: Harness, k: string, v: string) => h.store.put({ key: b(k), value: b(v) });
const del = (h: Harness, k: string, end?: string) => h.store.deleteRange({ key: b(k), ...(end !== undefined ? { rangeEnd: b(end) } : {}) });
const prefixEnd = (p: string) => b(p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1));

/** Events of a watcher must be exactly `want`, once each, in order. */
async function expectEvents(s: TestStream, watchId: number, want: string[]): Promise<void> {
  await s.until(() => s.events(watchId).length >= want.length);
  await new Promise((r) => setTimeout(r, 30)); // nothing more may follow
  assert.deepEqual(s.events(watchId), want);
}

describe('watch hub', () => {
  withHub('answers a create at once with the current revision, then sends each revision as it is written', async (h) => {
    put(h, 'other', 'x'); // 2
    const s = h.open();
    s.create({ key: b('a'), rangeEnd: prefixEnd('a') });
    assert.deepEqual(s.seen(), [{ watchId: 0, revision: 2, created: true, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [] }]);
    put(h, 'a1', 'v1'); // 3
    put(h, 'b', 'no'); // 4
    h.store.txn({ compare: [], success: [{ put: { key: b('a2'), value: b('v2') } }, { deleteRange: { key: b('a1') } }, { put: { key: b('zz'), value: b('no') } }], failure: [] }); // 5
    await expectEvents(s, 0, ['PUT a1=v1@3', 'PUT a2=v2@5', 'DELETE a1@5']);
    const live = s.seen().slice(1);
    assert.deepEqual(live.map((r) => [r.revision, r.events.length]), [[3, 1], [5, 2]], 'one response per revision; a txn in one response, header = its revision');
  });

  withHub('assigns watch ids as etcd: 0, 1, ... skipping ids the client chose; a duplicate id or an empty range is refused', async (h) => {
    const s = h.open();
    s.create({ key: b('a'), watchId: 1 });
    s.create({ key: b('a') });
    s.create({ key: b('a') });
    s.create({ key: b('a'), watchId: 2 });
    s.create({ key: b('b'), rangeEnd: b('a') });
    s.create({ key: b('b'), rangeEnd: b('b') });
    assert.deepEqual(
      s.seen().map((r) => [r.watchId, r.created, r.canceled, r.cancelReason]),
      [
        [1, true, false, ''],
        [0, true, false, ''],
        [2, true, false, ''],
        [-1, true, true, 'mvcc: duplicate watch ID provided on the WatchStream'],
        [-1, true, true, 'mvcc: watcher range is empty'],
        [-1, true, true, 'mvcc: watcher range is empty'],
      ],
    );
  });

  withHub('watches a key, a prefix, every key from a key, and every key (empty key, range_end \\0)', async (h) => {
    const s = h.open();
    s.create({ key: b('k') });
    s.create({ key: b('k'), rangeEnd: prefixEnd('k') });
    s.create({ key: b('l'), rangeEnd: b('\0') });
    s.create({ key: b(''), rangeEnd: b('\0') });
    for (const k of ['a', 'k', 'k1', 'l', 'zz']) put(h, k, 'v');
    await expectEvents(s, 3, ['PUT a=v@2', 'PUT k=v@3', 'PUT k1=v@4', 'PUT l=v@5', 'PUT zz=v@6']);
    assert.deepEqual(s.events(0), ['PUT k=v@3']);
    assert.deepEqual(s.events(1), ['PUT k=v@3', 'PUT k1=v@4']);
    assert.deepEqual(s.events(2), ['PUT l=v@5', 'PUT zz=v@6']);
  });

  withHub('from a past start revision: the history in one response, then live, nothing twice', async (h) => {
    for (let i = 0; i < 5; i++) put(h, `k${i}`, `${i}`); // 2..6
    const s = h.open();
    s.create({ key: b('k'), rangeEnd: prefixEnd('k'), startRevision: 3 });
    await s.until(() => s.events(0).length === 4);
    put(h, 'k9', '9'); // 7
    await expectEvents(s, 0, ['PUT k1=1@3', 'PUT k2=2@4', 'PUT k3=3@5', 'PUT k4=4@6', 'PUT k9=9@7']);
    assert.deepEqual(s.seen().slice(1).map((r) => [r.revision, r.events.length]), [[6, 4], [7, 1]]);
  });

  withHub('a future start revision waits for it', async (h) => {
    const s = h.open();
    s.create({ key: b('k'), startRevision: 4 });
    put(h, 'k', '1'); // 2
    put(h, 'k', '2'); // 3
    put(h, 'k', '3'); // 4
    await expectEvents(s, 0, ['PUT k=3@4']);
  });

  withHub('filters puts or deletes; prev_kv carries the value before the revision', async (h) => {
    put(h, 'k', 'old'); // 2
    const s = h.open();
    s.withPrev = true;
    s.create({ key: b('k'), filters: [0] }); // NOPUT
    s.create({ key: b('k'), filters: [1] }); // NODELETE
    s.create({ key: b('k'), prevKv: true });
    s.create({ key: b('k'), filters: [0, 1] });
    put(h, 'k', 'new'); // 3
    del(h, 'k'); // 4
    put(h, 'k', 'again'); // 5
    await expectEvents(s, 2, ['PUT k=new@3 prev=old@2', 'DELETE k@4 prev=new@3', 'PUT k=again@5']);
    assert.deepEqual(s.events(0), ['DELETE k@4']);
    assert.deepEqual(s.events(1), ['PUT k=new@3', 'PUT k=again@5']);
    assert.deepEqual(s.events(3), []);
  });

  withHub('prev_kv from the history too', async (h) => {
    put(h, 'k', 'a'); // 2
    put(h, 'k', 'b'); // 3
    del(h, 'k'); // 4
    const s = h.open();
    s.withPrev = true;
    s.create({ key: b('k'), prevKv: true, startRevision: 2 });
    await expectEvents(s, 0, ['PUT k=a@2', 'PUT k=b@3 prev=a@2', 'DELETE k@4 prev=b@3']);
  });

  withHub('cancel: a canceled response, then nothing; an unknown id is ignored', async (h) => {
    const s = h.open();
    s.create({ key: b('k') });
    put(h, 'k', '1'); // 2
    await s.until(() => s.events(0).length === 1);
    s.cancel(0);
    s.cancel(42);
    put(h, 'k', '2'); // 3
    await s.until(() => s.seen().some((r) => r.canceled));
    await new Promise((r) => setTimeout(r, 50));
    const last = s.seen().at(-1)!;
    assert.deepEqual([last.watchId, last.canceled, last.revision], [0, true, 2]);
    assert.deepEqual(s.events(0), ['PUT k=1@2']);
    assert.equal(s.seen().filter((r) => r.canceled).length, 1);
  });

  withHub('a compacted start revision: created, then canceled with compact_revision (header revision 0), as etcd', async (h) => {
    for (let i = 0; i < 5; i++) put(h, 'k', `${i}`); // 2..6
    h.store.compact(5);
    const s = h.open();
    s.create({ key: b('k'), startRevision: 3 });
    s.create({ key: b('k'), startRevision: 5 });
    await s.until(() => s.seen().some((r) => r.compactRevision !== 0) && s.events(1).length === 2);
    const compacted = s.seen().find((r) => r.compactRevision !== 0)!;
    assert.deepEqual(compacted, { watchId: 0, revision: 0, created: false, canceled: true, compactRevision: 5, cancelReason: '', fragment: false, events: [] });
    assert.deepEqual(s.events(1), ['PUT k=3@5', 'PUT k=4@6']);
    put(h, 'k', 'x'); // 7
    await expectEvents(s, 1, ['PUT k=3@5', 'PUT k=4@6', 'PUT k=x@7']);
    assert.deepEqual(s.events(0), []);
  });

  withHub('a start below the compacted revision is canceled even while the ring still holds it', async (h) => {
    const s = h.open(); // the worker starts now: the ring gets every revision from here on
    s.create({ key: b('x') });
    for (let i = 0; i < 5; i++) put(h, 'k', `${i}`); // 2..6
    h.store.compact(4);
    s.create({ key: b('k'), startRevision: 3 });
    s.create({ key: b('k'), startRevision: 4 });
    await s.until(() => s.seen().some((r) => r.compactRevision === 4) && s.events(2).length === 3);
    assert.deepEqual(s.events(2), ['PUT k=2@4', 'PUT k=3@5', 'PUT k=4@6']);
    assert.deepEqual(s.events(1), []);
  });

  withHub('a progress request: watch id -1 and the current revision, after every event up to it', async (h) => {
    const s = h.open();
    s.create({ key: b('k') });
    put(h, 'k', '1'); // 2
    put(h, 'x', '1'); // 3
    s.progress();
    await s.until(() => s.seen().some((r) => r.watchId === -1));
    const seen = s.seen();
    const progress = seen.findIndex((r) => r.watchId === -1);
    assert.deepEqual(seen[progress], { watchId: -1, revision: 3, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [] });
    assert.ok(seen.findIndex((r) => r.events.length > 0) < progress);
  });

  withHub(
    'progress_notify: a watcher with no events since the last tick hears the revision',
    async (h) => {
      const s = h.open();
      s.create({ key: b('k'), progressNotify: true });
      s.create({ key: b('j') });
      put(h, 'x', '1'); // 2
      await s.until(() => s.seen().filter((r) => r.watchId === 0 && !r.created).length >= 2, 5000);
      const notes = s.seen().filter((r) => r.watchId === 0 && !r.created);
      assert.ok(notes.every((r) => r.events.length === 0 && r.revision === 2));
      assert.equal(s.seen().filter((r) => r.watchId === 1 && !r.created).length, 0, 'only progress_notify watchers');
    },
    { progressNotifyIntervalMs: 100 },
  );

  withHub(
    'fragment: a large response is split as etcd splits it; without fragment it goes whole',
    async (h) => {
      const s = h.open();
      s.create({ key: b('k'), rangeEnd: prefixEnd('k'), fragment: true });
      s.create({ key: b('k'), rangeEnd: prefixEnd('k') });
      const big = 'x'.repeat(400);
      h.store.txn({ compare: [], success: Array.from({ length: 10 }, (_, i) => ({ put: { key: b(`k${i}`), value: b(big) } })), failure: [] });
      await s.until(() => s.events(0).length === 10 && s.events(1).length === 10);
      const pieces = s.seen().filter((r) => r.watchId === 0 && !r.created);
      assert.ok(pieces.length > 2, `${pieces.length} pieces`);
      assert.ok(pieces.slice(0, -1).every((r) => r.fragment) && !pieces.at(-1)!.fragment);
      assert.equal(s.seen().filter((r) => r.watchId === 1 && !r.created).length, 1);
    },
    { maxResponseBytes: 1500 },
  );

  withHub(
    'a consumer that stops reading falls behind without holding anyone up, then gets every event once, in order',
    async (h) => {
      const slow = h.open();
      const fast = h.open();
      slow.create({ key: b('k'), rangeEnd: prefixEnd('k') });
      fast.create({ key: b('k'), rangeEnd: prefixEnd('k') });
      slow.stopReading();
      const want: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const rev = h.store.put({ key: b(`k${i % 17}`), value: b(`v${i}`) }).revision;
        want.push(`PUT k${i % 17}=v${i}@${rev}`);
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      }
      await expectEvents(fast, 0, want);
      slow.resumeReading();
      await expectEvents(slow, 0, want);
    },
    { streamWindowBytes: 4096 },
  );

  withHub(
    'a worker lapped by the ring re-reads from the history: every event once, in order',
    async (h) => {
      const s = h.open();
      s.create({ key: b('k'), rangeEnd: prefixEnd('k') });
      s.create({ key: b('k5') });
      await new Promise((r) => setTimeout(r, 50));
      const want: string[] = [];
      const want5: string[] = [];
      // All in one synchronous stretch: the worker cannot read while the ring turns over many times.
      for (let i = 0; i < 2000; i++) {
        const rev = h.store.put({ key: b(`k${i % 10}`), value: b(`v${i}`) }).revision;
        want.push(`PUT k${i % 10}=v${i}@${rev}`);
        if (i % 10 === 5) want5.push(`PUT k5=v${i}@${rev}`);
      }
      await expectEvents(s, 0, want);
      assert.deepEqual(s.events(1), want5);
    },
    { ringSlots: 16, ringBytes: 8192 },
  );

  withHub('resumes: a new watch from the last revision + 1 misses nothing and repeats nothing', async (h) => {
    const s1 = h.open();
    s1.create({ key: b('k'), rangeEnd: prefixEnd('k') });
    for (let i = 0; i < 20; i++) put(h, `k${i % 3}`, `${i}`);
    await s1.until(() => s1.events(0).length === 20);
    const last = Number(s1.events(0)[9]!.split('@')[1]);
    s1.close();
    const s2 = h.open();
    s2.create({ key: b('k'), rangeEnd: prefixEnd('k'), startRevision: last + 1 });
    for (let i = 20; i < 25; i++) put(h, `k${i % 3}`, `${i}`);
    const want = [...s1.events(0).slice(10)];
    for (let i = 20; i < 25; i++) want.push(`PUT k${i % 3}=${i}@${i + 2}`);
    await expectEvents(s2, 0, want);
  });

  withHub('after the store is replaced (a snapshot), watchers continue from the new store without gap or repeat', async (h) => {
    const s = h.open();
    s.create({ key: b('k'), rangeEnd: prefixEnd('k') });
    put(h, 'k1', 'a'); // 2
    await s.until(() => s.events(0).length === 1);
    // The leader's store: the same first revision, then more.
    const leader = new TempEnv(true);
    try {
      leader.store.put({ key: b('k1'), value: b('a') }); // 2
      leader.store.put({ key: b('k2'), value: b('b') }); // 3
      leader.store.put({ key: b('x'), value: b('no') }); // 4
      leader.store.deleteRange({ key: b('k1') }); // 5
      await leader.store.committed();
      h.hub.storeClosing();
      const replacement: MvccStore = leader.store;
      h.hub.storeOpened(replacement);
      replacement.put({ key: b('k3'), value: b('c') }); // 6
      await expectEvents(s, 0, ['PUT k1=a@2', 'PUT k2=b@3', 'DELETE k1@5', 'PUT k3=c@6']);
      h.hub.storeClosing();
      h.hub.storeOpened(h.store);
    } finally {
      await leader.dispose();
    }
  });
});
