// The MVCC store's change feed and history scan: one Change per revision with its events in
// sub-revision order (a txn's together), delete events as etcd sends them, prev_kv read at
// revision - 1, history from LMDB and the write buffer alike, and etcd's compacted rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errors } from '../../src/main/errors.js';
import { decode } from '../../src/main/api/proto/codec.js';
import { KeyValueCodec } from '../../src/main/api/proto/mvcc.js';
import { EventType, type Change, type MvccEvent } from '../../src/storage/mvcc/index.js';
import { TempEnv, b, nextTurn } from '../storage/helpers.js';

const all = { key: b('\0'), rangeEnd: b('\0') };

interface Seen {
  type: EventType;
  key: string;
  value: string;
  rev: number;
  mod: number;
  create: number;
  version: number;
}

function seen(e: MvccEvent): Seen {
  const kv = decode(KeyValueCodec, Buffer.from(e.kv));
  assert.equal(e.key.toString('latin1'), kv.key.toString('latin1'), 'the key view is the KeyValue key');
  return { type: e.type, key: kv.key.toString('latin1'), value: kv.value.toString('latin1'), rev: e.revision, mod: kv.modRevision, create: kv.createRevision, version: kv.version };
}

function withStore(name: string, fn: (t: TempEnv) => void | Promise<void>): void {
  it(name, async () => {
    const t = new TempEnv(true);
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  });
}

describe('change feed', () => {
  withStore('hears each revision once, its events in sub-revision order', (t) => {
    const changes: Change[] = [];
    const copies: Seen[][] = [];
    t.store.setChangeListener((c) => {
      changes.push(c);
      copies.push(c.events.map(seen));
    });
    t.store.put({ key: b('a'), value: b('1') });
    t.store.put({ key: b('b'), value: b('2') });
    t.store.deleteRange({ key: b('zzz') }); // deletes nothing: no revision, no change
    t.store.txn({
      compare: [],
      success: [{ put: { key: b('c'), value: b('3') } }, { deleteRange: { key: b('a') } }, { put: { key: b('b'), value: b('4') } }],
      failure: [],
    });
    t.store.txn({ compare: [], success: [{ range: { key: b('a') } }], failure: [] }); // read-only: nothing
    t.store.deleteRange({ key: b('a'), rangeEnd: b('z') });
    assert.deepEqual(changes.map((c) => c.revision), [2, 3, 4, 5]);
    assert.deepEqual(copies, [
      [{ type: EventType.Put, key: 'a', value: '1', rev: 2, mod: 2, create: 2, version: 1 }],
      [{ type: EventType.Put, key: 'b', value: '2', rev: 3, mod: 3, create: 3, version: 1 }],
      [
        { type: EventType.Put, key: 'c', value: '3', rev: 4, mod: 4, create: 4, version: 1 },
        // etcd's delete event: the key and the mod revision only
        { type: EventType.Delete, key: 'a', value: '', rev: 4, mod: 4, create: 0, version: 0 },
        { type: EventType.Put, key: 'b', value: '4', rev: 4, mod: 4, create: 3, version: 2 },
      ],
      [
        { type: EventType.Delete, key: 'b', value: '', rev: 5, mod: 5, create: 0, version: 0 },
        { type: EventType.Delete, key: 'c', value: '', rev: 5, mod: 5, create: 0, version: 0 },
      ],
    ]);
    assert.deepEqual(changes[2]!.events.map((e) => e.sub), [0, 1, 2]);
  });

  withStore('stops when the listener is removed', (t) => {
    let heard = 0;
    t.store.setChangeListener(() => heard++);
    t.store.put({ key: b('a'), value: b('1') });
    t.store.setChangeListener(undefined);
    t.store.put({ key: b('a'), value: b('2') });
    assert.equal(heard, 1);
  });

  withStore('reads prev_kv at revision - 1, in the listener and later, until compacted', async (t) => {
    const prevs: (string | undefined)[] = [];
    t.store.setChangeListener((c) => {
      for (const e of c.events) {
        const p = t.store.prevKv(e.key, e.revision);
        prevs.push(p === undefined ? undefined : decode(KeyValueCodec, p).value.toString());
      }
    });
    t.store.put({ key: b('k'), value: b('v1') }); // 2: created, no prev
    t.store.put({ key: b('k'), value: b('v2') }); // 3: prev v1
    t.store.deleteRange({ key: b('k') }); // 4: prev v2
    t.store.put({ key: b('k'), value: b('v3') }); // 5: created again, no prev
    assert.deepEqual(prevs, [undefined, 'v1', 'v2', undefined]);
    await t.store.committed();
    await nextTurn();
    const prevOf3 = t.store.prevKv(b('k'), 3);
    assert.equal(prevOf3 && decode(KeyValueCodec, prevOf3).value.toString(), 'v1', 'from LMDB once committed');
    t.store.compact(3);
    assert.ok(t.store.prevKv(b('k'), 4) !== undefined, 'revision 3 is still readable after compacting at 3');
    assert.equal(t.store.prevKv(b('k'), 3), undefined, 'revision 2 is compacted');
  });
});

describe('history', () => {
  withStore('returns every event from a revision on, in order, whether LMDB or the write buffer holds it', async (t) => {
    for (let i = 0; i < 10; i++) t.store.put({ key: b(`k${i % 3}`), value: b(`${i}`) });
    await t.store.committed();
    await nextTurn(); // revisions 2..11 now in LMDB
    t.store.txn({ compare: [], success: [{ put: { key: b('k0'), value: b('t') } }, { deleteRange: { key: b('k1') } }], failure: [] }); // 12, buffered
    t.store.put({ key: b('x'), value: b('y') }); // 13, buffered
    const h = t.store.events(5, all);
    assert.equal(h.through, 13);
    assert.deepEqual(
      h.events.map((e) => [e.revision, e.sub, e.type, e.key.toString()]),
      [
        [5, 0, EventType.Put, 'k0'], [6, 0, EventType.Put, 'k1'], [7, 0, EventType.Put, 'k2'], [8, 0, EventType.Put, 'k0'],
        [9, 0, EventType.Put, 'k1'], [10, 0, EventType.Put, 'k2'], [11, 0, EventType.Put, 'k0'],
        [12, 0, EventType.Put, 'k0'], [12, 1, EventType.Delete, 'k1'], [13, 0, EventType.Put, 'x'],
      ],
    );
    // The same events as the feed gave: the delete's KeyValue has its mod revision.
    const del = h.events.find((e) => e.type === EventType.Delete)!;
    assert.equal(decode(KeyValueCodec, del.kv).modRevision, 12);
  });

  withStore('filters by key ranges: single key, prefix, from-key, several at once', (t) => {
    for (const k of ['a', 'ab', 'abc', 'b', 'c']) t.store.put({ key: b(k), value: b('v') });
    const keys = (ranges: Parameters<typeof t.store.events>[1]) => t.store.events(1, ranges).events.map((e) => e.key.toString());
    assert.deepEqual(keys({ key: b('ab') }), ['ab']);
    assert.deepEqual(keys({ key: b('ab'), rangeEnd: b('ac') }), ['ab', 'abc']);
    assert.deepEqual(keys({ key: b('b'), rangeEnd: b('\0') }), ['b', 'c']);
    assert.deepEqual(keys([{ key: b('a') }, { key: b('c') }]), ['a', 'c']);
    assert.deepEqual(keys({ key: b('zz') }), []);
  });

  withStore('stops at revision boundaries when a limit is reached, never inside a txn', (t) => {
    for (let i = 0; i < 5; i++) {
      t.store.txn({ compare: [], success: [{ put: { key: b(`a${i}`), value: b('v') } }, { put: { key: b(`b${i}`), value: b('v') } }], failure: [] });
    }
    const first = t.store.events(2, all, { maxRevisions: 2 });
    assert.equal(first.through, 3);
    assert.deepEqual(first.events.map((e) => e.revision), [2, 2, 3, 3]);
    const next = t.store.events(first.through + 1, all, { maxBytes: 1 });
    assert.equal(next.through, 4);
    assert.deepEqual(next.events.map((e) => e.revision), [4, 4]);
    const scanned = t.store.events(2, { key: b('zz') }, { maxScanned: 3 });
    assert.deepEqual(scanned, { events: [], through: 4 });
  });

  withStore('fails below the compacted revision; at it, gives what compaction kept (as etcd)', async (t) => {
    t.store.put({ key: b('a'), value: b('1') }); // 2
    t.store.put({ key: b('b'), value: b('2') }); // 3
    t.store.deleteRange({ key: b('a') }); // 4
    t.store.put({ key: b('c'), value: b('3') }); // 5
    t.store.compact(4);
    assert.throws(() => t.store.events(3, all), (e) => e === Errors.compacted);
    assert.throws(() => t.store.events(1, all), (e) => e === Errors.compacted);
    // The delete of a at 4 is gone with the compaction; c at 5 remains (real etcd 3.4.23 answers the same).
    const check = () => assert.deepEqual(t.store.events(4, all).events.map((e) => [e.revision, e.key.toString()]), [[5, 'c']]);
    check();
    await t.store.committed();
    await nextTurn();
    check();
    t.store.put({ key: b('d'), value: b('4') }); // 6
    t.store.compact(6);
    assert.deepEqual(t.store.events(6, all).events.map((e) => [e.revision, e.key.toString()]), [[6, 'd']], 'a put current at the compacted revision is kept');
  });
});
