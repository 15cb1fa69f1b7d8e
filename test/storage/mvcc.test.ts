// Unit tests of the MVCC store: etcd's revision numbering, generations, range options, txn,
// compaction, errors, golden answers recorded from a real etcd 3.4.23 (HashKV, sort order), and the
// asynchronous LMDB writes behind the write buffer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DatabaseOptions, RootDatabase } from 'lmdb';
import { Errors } from '../../src/main/errors.js';
import {
  CompareResult,
  CompareTarget,
  MVCC_DB_NAMES,
  MVCC_UNCOMMITTED_LIMIT_BYTES,
  MvccBrokenError,
  MvccStore,
  SortOrder,
  SortTarget,
  type KeyValue,
  type RangeResponse,
} from '../../src/storage/mvcc/index.js';
import { goSort } from '../../src/storage/mvcc/go-sort.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { TempEnv, b, nextTurn } from './helpers.js';

const all = { key: b('\0'), rangeEnd: b('\0') };
const keys = (r: RangeResponse): string[] => r.kvs.map((kv) => kv.key.toString('latin1'));
const kv = (key: string, createRevision: number, modRevision: number, version: number, value: string, lease = 0n): KeyValue => ({
  key: b(key),
  createRevision,
  modRevision,
  version,
  value: b(value),
  lease,
});

function withStore(name: string, fn: (t: TempEnv) => void | Promise<void>): void {
  it(name, async () => {
    const t = new TempEnv();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  });
}

describe('revisions', () => {
  withStore('an empty store is at revision 1 and was never compacted', (t) => {
    assert.equal(t.store.currentRevision, 1);
    assert.equal(t.store.compactedRevision, -1);
    assert.deepEqual(t.store.range(all), { kvs: [], more: false, count: 0, revision: 1 });
  });

  withStore('each put raises the revision; versions count puts within a generation', (t) => {
    assert.deepEqual(t.store.put({ key: b('foo'), value: b('a') }), { revision: 2 });
    assert.deepEqual(t.store.put({ key: b('foo'), value: b('b'), lease: 7n }), { revision: 3 });
    assert.deepEqual(t.store.range({ key: b('foo') }).kvs, [kv('foo', 2, 3, 2, 'b', 7n)]);
    assert.deepEqual(t.store.range({ key: b('foo'), revision: 2 }).kvs, [kv('foo', 2, 2, 1, 'a')]);
    assert.equal(t.store.range({ key: b('foo'), revision: 2 }).revision, 3, 'header revision is the current one');
  });

  withStore('a delete ends a generation; the next put starts one', (t) => {
    t.store.put({ key: b('k'), value: b('1') }); // 2
    t.store.put({ key: b('k'), value: b('2') }); // 3
    assert.deepEqual(t.store.deleteRange({ key: b('k'), prevKv: true }), {
      deleted: 1,
      prevKvs: [kv('k', 2, 3, 2, '2')],
      revision: 4,
    });
    assert.equal(t.store.range({ key: b('k') }).count, 0);
    t.store.put({ key: b('k'), value: b('3') }); // 5
    assert.deepEqual(t.store.range({ key: b('k') }).kvs, [kv('k', 5, 5, 1, '3')]);
    assert.deepEqual(t.store.range({ key: b('k'), revision: 3 }).kvs, [kv('k', 2, 3, 2, '2')]);
    assert.deepEqual(t.store.range({ key: b('k'), revision: 4 }).kvs, []);
  });

  withStore('a delete that deletes nothing keeps the revision', (t) => {
    t.store.put({ key: b('a'), value: b('') });
    assert.deepEqual(t.store.deleteRange({ key: b('b'), rangeEnd: b('z') }), { deleted: 0, prevKvs: [], revision: 2 });
    assert.equal(t.store.currentRevision, 2);
  });

  withStore('a txn is one revision; its reads see its own earlier writes', (t) => {
    t.store.put({ key: b('x'), value: b('old') }); // 2
    const resp = t.store.txn({
      compare: [],
      success: [
        { range: { key: b('x') } },
        { put: { key: b('x'), value: b('new'), prevKv: true } },
        { range: { key: b('x') } },
        { put: { key: b('y'), value: b('1') } },
        { deleteRange: { key: b('nothing') } },
        { txn: { compare: [], success: [{ range: { key: b('y') } }], failure: [] } },
      ],
      failure: [],
    });
    assert.equal(t.store.currentRevision, 3);
    assert.deepEqual(resp, {
      succeeded: true,
      revision: 3,
      responses: [
        { range: { kvs: [kv('x', 2, 2, 1, 'old')], more: false, count: 1, revision: 2 } },
        { put: { prevKv: kv('x', 2, 2, 1, 'old'), revision: 3 } },
        { range: { kvs: [kv('x', 2, 3, 2, 'new')], more: false, count: 1, revision: 3 } },
        { put: { revision: 3 } },
        { deleteRange: { deleted: 0, prevKvs: [], revision: 3 } },
        { txn: { succeeded: true, revision: 0, responses: [{ range: { kvs: [kv('y', 3, 3, 1, '1')], more: false, count: 1, revision: 3 } }] } },
      ],
    });
  });

  withStore('a txn that changes nothing keeps the revision', (t) => {
    t.store.put({ key: b('x'), value: b('') });
    const resp = t.store.txn({ compare: [], success: [{ deleteRange: { key: b('y') } }, { range: { key: b('x') } }], failure: [] });
    assert.equal(resp.revision, 2);
    assert.equal(t.store.currentRevision, 2);
  });

  withStore('a key deleted and put again in one txn gets a new generation at that revision', (t) => {
    t.store.put({ key: b('k'), value: b('1') }); // 2
    t.store.txn({ compare: [], success: [{ deleteRange: { key: b('k') } }, { txn: { compare: [], success: [{ put: { key: b('k'), value: b('2') } }], failure: [] } }], failure: [] });
    assert.deepEqual(t.store.range({ key: b('k') }).kvs, [kv('k', 3, 3, 1, '2')]);
  });
});

describe('txn compares', () => {
  withStore('compares are all decided before any write, nested ones too', (t) => {
    t.store.put({ key: b('a'), value: b('1') }); // 2
    const resp = t.store.txn({
      compare: [{ key: b('a'), target: CompareTarget.Version, result: CompareResult.Equal, version: 1 }],
      success: [
        { put: { key: b('a'), value: b('2') } },
        {
          // Evaluated against revision 2, where a's version is still 1.
          txn: {
            compare: [{ key: b('a'), target: CompareTarget.Version, result: CompareResult.Equal, version: 1 }],
            success: [{ put: { key: b('b'), value: b('yes') } }],
            failure: [{ put: { key: b('b'), value: b('no') } }],
          },
        },
      ],
      failure: [],
    });
    assert.equal(resp.succeeded, true);
    assert.equal(t.store.range({ key: b('b') }).kvs[0]!.value.toString(), 'yes');
  });

  withStore('a missing key compares as zero, except VALUE which fails', (t) => {
    const cmp = (target: CompareTarget, result: CompareResult, extra: object): boolean =>
      t.store.txn({ compare: [{ key: b('missing'), target, result, ...extra }], success: [], failure: [] }).succeeded;
    assert.equal(cmp(CompareTarget.Version, CompareResult.Equal, { version: 0 }), true);
    assert.equal(cmp(CompareTarget.Create, CompareResult.Less, { createRevision: 1 }), true);
    assert.equal(cmp(CompareTarget.Lease, CompareResult.Equal, {}), true);
    assert.equal(cmp(CompareTarget.Value, CompareResult.Equal, { value: b('') }), false);
    assert.equal(cmp(CompareTarget.Value, CompareResult.NotEqual, { value: b('x') }), false);
  });

  withStore('a compare over a range needs every key to hold', (t) => {
    t.store.put({ key: b('p/1'), value: b('a') });
    t.store.put({ key: b('p/2'), value: b('b') });
    const cmp = (result: CompareResult, value: string): boolean =>
      t.store.txn({ compare: [{ key: b('p/'), rangeEnd: b('p0'), target: CompareTarget.Value, result, value: b(value) }], success: [], failure: [] }).succeeded;
    assert.equal(cmp(CompareResult.Greater, ''), true);
    assert.equal(cmp(CompareResult.Equal, 'a'), false);
    assert.equal(cmp(CompareResult.Less, 'c'), true);
  });

  withStore('request errors are found before anything is written', (t) => {
    t.store.put({ key: b('a'), value: b('1') });
    const txn = (ops: Parameters<typeof t.store.txn>[0]['success']) => () => t.store.txn({ compare: [], success: ops, failure: [] });
    assert.throws(txn([{ put: { key: b('b'), value: b('') } }, { put: { key: b('c'), value: b(''), ignoreValue: true } }]), (e) => e === Errors.keyNotFound);
    assert.throws(txn([{ put: { key: b('b'), value: b('') } }, { range: { key: b('a'), revision: 3 } }]), (e) => e === Errors.futureRev);
    assert.equal(t.store.currentRevision, 2);
    assert.equal(t.store.range({ key: b('b') }).count, 0);
    t.store.put({ key: b('b'), value: b('') }); // still usable
    assert.equal(t.store.currentRevision, 3);
  });
});

describe('put options', () => {
  withStore('ignore_value and ignore_lease keep the previous ones; a missing key is an error', (t) => {
    t.store.put({ key: b('k'), value: b('v'), lease: 9n });
    t.store.put({ key: b('k'), value: b(''), ignoreValue: true, ignoreLease: true });
    assert.deepEqual(t.store.range({ key: b('k') }).kvs, [kv('k', 2, 3, 2, 'v', 9n)]);
    t.store.put({ key: b('k'), value: b('w') });
    assert.deepEqual(t.store.range({ key: b('k') }).kvs, [kv('k', 2, 4, 3, 'w')]);
    assert.throws(() => t.store.put({ key: b('nope'), value: b(''), ignoreLease: true }), (e) => e === Errors.keyNotFound);
    assert.equal(t.store.currentRevision, 4);
  });

  withStore('leases round-trip as int64', (t) => {
    for (const lease of [1n, 2n ** 62n + 5n, 2n ** 63n - 1n, -1n, -(2n ** 63n)]) {
      t.store.put({ key: b('k'), value: b(''), lease });
      assert.equal(t.store.range({ key: b('k') }).kvs[0]!.lease, lease);
    }
  });
});

describe('range', () => {
  let t: TempEnv;
  before(() => {
    t = new TempEnv();
    // rev 2..7: a b c d, then a twice more.
    for (const [k, v] of [['a', '3'], ['b', '1'], ['c', '2'], ['d', '1'], ['a', '2'], ['a', '1']] as const) t.store.put({ key: b(k), value: b(v) });
  });
  after(() => t.dispose());

  it('range_end: single key, [key, end), >= key, everything', () => {
    assert.deepEqual(keys(t.store.range({ key: b('b') })), ['b']);
    assert.deepEqual(keys(t.store.range({ key: b('b'), rangeEnd: b('') })), ['b'], 'empty range_end is the key alone');
    assert.deepEqual(keys(t.store.range({ key: b('b'), rangeEnd: b('d') })), ['b', 'c']);
    assert.deepEqual(keys(t.store.range({ key: b('b'), rangeEnd: b('\0') })), ['b', 'c', 'd']);
    assert.deepEqual(keys(t.store.range(all)), ['a', 'b', 'c', 'd']);
    assert.deepEqual(keys(t.store.range({ key: b('c'), rangeEnd: b('b') })), [], 'an end before the key is empty');
  });

  it('limit gives more and the full count', () => {
    const r = t.store.range({ ...all, limit: 2 });
    assert.deepEqual([keys(r), r.more, r.count], [['a', 'b'], true, 4]);
    const r2 = t.store.range({ ...all, limit: 4 });
    assert.deepEqual([keys(r2), r2.more, r2.count], [['a', 'b', 'c', 'd'], false, 4]);
  });

  it('sorts; a non-KEY target without an order sorts ascending', () => {
    assert.deepEqual(keys(t.store.range({ ...all, sortOrder: SortOrder.Descend })), ['d', 'c', 'b', 'a']);
    assert.deepEqual(keys(t.store.range({ ...all, sortTarget: SortTarget.Mod })), ['b', 'c', 'd', 'a']);
    // Ties (a, b, d all hold '1') keep key order here: Go sorts fewer than 13 elements by insertion.
    assert.deepEqual(keys(t.store.range({ ...all, sortTarget: SortTarget.Value, sortOrder: SortOrder.Descend })), ['c', 'a', 'b', 'd']);
    const r = t.store.range({ ...all, sortTarget: SortTarget.Version, sortOrder: SortOrder.Descend, limit: 1 });
    assert.deepEqual([keys(r), r.more, r.count], [['a'], true, 4]);
  });

  it('min/max filters drop keys but not count', () => {
    const r = t.store.range({ ...all, minModRevision: 3, maxModRevision: 5 });
    assert.deepEqual([keys(r), r.count], [['b', 'c', 'd'], 4]);
    assert.deepEqual(keys(t.store.range({ ...all, minCreateRevision: 3, maxCreateRevision: 4 })), ['b', 'c']);
    const limited = t.store.range({ ...all, minCreateRevision: 3, limit: 1 });
    assert.deepEqual([keys(limited), limited.more, limited.count], [['b'], true, 4]);
  });

  it('keys_only and count_only', () => {
    assert.deepEqual(t.store.range({ key: b('a'), keysOnly: true }).kvs, [kv('a', 2, 7, 3, '')]);
    assert.deepEqual(t.store.range({ ...all, countOnly: true, limit: 1 }), { kvs: [], more: false, count: 4, revision: 7 });
  });

  it('reads past revisions; a future one is an error', () => {
    assert.deepEqual(keys(t.store.range({ ...all, revision: 2 })), ['a']);
    assert.deepEqual(keys(t.store.range({ ...all, revision: 3 })), ['a', 'b']);
    assert.throws(() => t.store.range({ ...all, revision: 8 }), (e) => e === Errors.futureRev);
  });
});

describe('compaction', () => {
  withStore('removes superseded history; reading at the compacted revision still works', async (t) => {
    t.store.put({ key: b('a'), value: b('1') }); // 2
    t.store.put({ key: b('a'), value: b('2') }); // 3
    t.store.put({ key: b('b'), value: b('1') }); // 4
    t.store.deleteRange({ key: b('b') }); // 5
    t.store.put({ key: b('a'), value: b('3') }); // 6
    t.store.compact(5);
    assert.equal(t.store.compactedRevision, 5);
    assert.deepEqual(t.store.range({ ...all, revision: 5 }).kvs, [kv('a', 2, 3, 2, '2')]);
    assert.throws(() => t.store.range({ ...all, revision: 4 }), (e) => e === Errors.compacted);
    // Left in LMDB once committed: a@3 (visible at 5) and a@6; a@2 and b's generation are gone.
    await t.store.committed();
    const revisions = t.env.openDB<Buffer, Buffer>({ name: MVCC_DB_NAMES.revisions, keyEncoding: 'binary', encoding: 'binary' });
    assert.deepEqual([...revisions.getKeys()].map((k) => k.readUInt32BE(4)), [3, 6]);
  });

  withStore('rejects old and future revisions as etcd does', async (t) => {
    t.store.put({ key: b('a'), value: b('1') });
    assert.throws(() => t.store.compact(3), (e) => e === Errors.futureRev);
    t.store.compact(2);
    assert.throws(() => t.store.compact(2), (e) => e === Errors.compacted);
    assert.throws(() => t.store.compact(1), (e) => e === Errors.compacted);
    await assert.rejects(t.store.hashKV(2), (e) => e === Errors.compacted);
  });
});

describe('golden answers from etcd 3.4.23', () => {
  withStore('hashKV matches etcd before and after compactions', async (t) => {
    t.store.put({ key: b('foo'), value: b('bar') }); // 2
    t.store.put({ key: b('foo'), value: b('baz'), lease: 1n }); // 3
    t.store.put({ key: b('k\x00\xff'), value: b('') }); // 4
    t.store.txn({ compare: [], success: [{ put: { key: b('a'), value: b('1') } }, { put: { key: b('b'), value: b('2') } }, { deleteRange: { key: b('foo') } }], failure: [] }); // 5
    t.store.deleteRange({ key: b('a'), rangeEnd: b('c') }); // 6
    t.store.put({ key: b('a'), value: b('again') }); // 7
    const expected = [1943374683, 1084519789, 3305255506, 3616786003, 4129118602, 1664747573, 1873572517, 1943374683];
    for (const [rev, hash] of expected.entries()) assert.deepEqual(await t.store.hashKV(rev), { hash, compactRevision: -1, revision: 7 }, `rev ${rev}`);
    t.store.compact(5);
    assert.deepEqual(await t.store.hashKV(0), { hash: 3106631566, compactRevision: 5, revision: 7 });
    assert.deepEqual(await t.store.hashKV(6), { hash: 3699058186, compactRevision: 5, revision: 7 });
    t.store.compact(7);
    assert.deepEqual(await t.store.hashKV(0), { hash: 4115674695, compactRevision: 7, revision: 7 });
  });

  const sortCases = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'storage', 'go-sort-etcd.json'), 'utf8')) as {
    versions: number[];
    ascend: number[];
    descend: number[];
  }[];

  it("ties in a sort come out in Go's (unstable) order", () => {
    for (const c of sortCases) {
      const asc = c.versions.map((v, i) => ({ v, i }));
      goSort(asc, (x, y) => x.v < y.v);
      assert.deepEqual(asc.map((x) => x.i), c.ascend);
      const desc = c.versions.map((v, i) => ({ v, i }));
      goSort(desc, (x, y) => y.v < x.v);
      assert.deepEqual(desc.map((x) => x.i), c.descend);
    }
  });

  withStore('a range sorted by VERSION returns ties as etcd does', (t) => {
    const c = sortCases.find((x) => x.versions.length < 30)!;
    const name = (i: number): Buffer => b(`k${String(i).padStart(3, '0')}`);
    c.versions.forEach((version, i) => {
      for (let n = 0; n < version; n++) t.store.put({ key: name(i), value: b('') });
    });
    const order = (sortOrder: SortOrder): number[] =>
      t.store.range({ ...all, sortTarget: SortTarget.Version, sortOrder }).kvs.map((x) => Number(x.key.toString().slice(1)));
    assert.deepEqual(order(SortOrder.Ascend), c.ascend);
    assert.deepEqual(order(SortOrder.Descend), c.descend);
  });
});

describe('keys', () => {
  withStore('are bytes: ordered as bytes, any length', (t) => {
    const big = Buffer.alloc(100_000, 0x61); // far beyond LMDB's key size limit
    for (const k of [b('\xff'), b('\x00'), b('a\x00'), b('a'), big]) t.store.put({ key: k, value: k });
    assert.deepEqual(
      t.store.range(all).kvs.map((x) => x.key.length > 10 ? 'big' : x.key.toString('latin1')),
      ['\x00', 'a', 'a\x00', 'big', '\xff'],
    );
    assert.ok(t.store.range({ key: big }).kvs[0]!.value.equals(big));
  });
});

describe('asynchronous writes', () => {
  const revisionKeys = (t: TempEnv): number[] =>
    [...t.env.openDB<Buffer, Buffer>({ name: MVCC_DB_NAMES.revisions, keyEncoding: 'binary', encoding: 'binary' }).getKeys()].map((k) =>
      k.readUInt32BE(4),
    );

  withStore('reads see writes LMDB has not committed yet, and the same once it has', async (t) => {
    t.store.put({ key: b('a'), value: b('1'), lease: 5n }); // 2
    assert.deepEqual(t.store.put({ key: b('a'), value: b('2'), prevKv: true }), { prevKv: kv('a', 2, 2, 1, '1', 5n), revision: 3 });
    const txn = {
      compare: [{ key: b('a'), target: CompareTarget.Value, result: CompareResult.Equal, value: b('2') }],
      success: [{ range: { key: b('a'), revision: 2 } }, { deleteRange: { key: b('a'), prevKv: true } }],
      failure: [],
    };
    const resp = t.store.txn(txn); // 4
    assert.equal(resp.succeeded, true);
    assert.deepEqual(resp.responses, [
      { range: { kvs: [kv('a', 2, 2, 1, '1', 5n)], more: false, count: 1, revision: 3 } },
      { deleteRange: { deleted: 1, prevKvs: [kv('a', 2, 3, 2, '2')], revision: 4 } },
    ]);
    const reads = (): unknown => [2, 3, 4].map((revision) => t.store.range({ ...all, revision }));
    const before = reads();
    assert.deepEqual(revisionKeys(t), [], 'nothing is committed within the event turn that wrote it');
    assert.ok(t.store.uncommittedBytes > 0);
    await t.store.committed();
    assert.equal(t.store.uncommittedBytes, 0);
    assert.deepEqual(revisionKeys(t), [2, 3, 4]);
    assert.deepEqual(reads(), before);
    await t.reopen();
    assert.deepEqual(reads(), before);
  });

  withStore('a read-only txn writes nothing', async (t) => {
    t.store.put({ key: b('a'), value: b('1') });
    await t.store.committed();
    const resp = t.store.txn({
      compare: [{ key: b('a'), target: CompareTarget.Version, result: CompareResult.Equal, version: 1 }],
      success: [{ range: { key: b('a') } }],
      failure: [],
    });
    assert.deepEqual(resp, { succeeded: true, revision: 2, responses: [{ range: { kvs: [kv('a', 2, 2, 1, '1')], more: false, count: 1, revision: 2 } }] });
    assert.equal(t.store.uncommittedBytes, 0);
    assert.equal(t.store.currentRevision, 2);
  });

  withStore('the writes of one event turn, compaction included, commit together', async (t) => {
    for (let i = 0; i < 10; i++) t.store.put({ key: b(`k${i}`), value: b('') });
    t.store.compact(5);
    assert.equal(t.store.currentRevision, 11);
    assert.equal(t.store.range({ key: b('k'), rangeEnd: b('l') }).count, 10);
    assert.deepEqual(revisionKeys(t), []);
    await t.store.committed();
    assert.deepEqual(revisionKeys(t), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'no key had a revision superseded by 5');
    const store = await t.reopen();
    assert.deepEqual([store.currentRevision, store.compactedRevision], [11, 5]);
  });

  withStore('compaction removes values still waiting for their commit from the buffer', async (t) => {
    t.store.put({ key: b('a'), value: Buffer.alloc(1000) }); // 2
    t.store.put({ key: b('a'), value: b('x') }); // 3
    t.store.put({ key: b('b'), value: b('y') }); // 4
    const buffered = t.store.uncommittedBytes;
    t.store.compact(3);
    assert.ok(buffered - t.store.uncommittedBytes > 1000, 'a@2 left the buffer');
    assert.throws(() => t.store.range({ ...all, revision: 2 }), (e) => e === Errors.compacted);
    assert.deepEqual(t.store.range({ ...all, revision: 3 }).kvs, [kv('a', 2, 3, 2, 'x')]);
    await t.store.committed();
    assert.deepEqual(revisionKeys(t), [3, 4]);
    assert.throws(() => t.store.range({ ...all, revision: 2 }), (e) => e === Errors.compacted);
  });

  withStore("committed() waits for the caller's writes to other databases too", async (t) => {
    const marker = t.env.openDB<number, string>({ name: 'test.marker' });
    t.store.put({ key: b('a'), value: b('') });
    await nextTurn();
    void marker.put('applied', 7); // a later turn without store writes, as the member's applied index may be
    await t.store.committed();
    assert.equal(marker.get('applied'), 7);
  });

  it('flushed() waits until the writes are durable', async () => {
    const t = new TempEnv();
    try {
      for (let i = 0; i < 5; i++) {
        t.store.put({ key: b(`k${i}`), value: b(`${i}`) });
        await nextTurn();
      }
      await t.store.flushed();
      assert.equal(t.store.uncommittedBytes, 0);
      assert.equal((await t.reopen()).range({ key: b('k'), rangeEnd: b('l') }).count, 5);
    } finally {
      await t.dispose();
    }
  });

  withStore('past MVCC_UNCOMMITTED_LIMIT_BYTES, backpressure() asks the caller to wait for the commit', async (t) => {
    assert.equal(t.store.backpressure(), undefined);
    const value = Buffer.alloc(2 ** 20);
    for (let i = 0; i * value.length <= MVCC_UNCOMMITTED_LIMIT_BYTES; i++) t.store.put({ key: b(`k${i % 4}`), value });
    const wait = t.store.backpressure();
    assert.ok(wait instanceof Promise);
    await wait;
    assert.equal(t.store.uncommittedBytes, 0);
    assert.equal(t.store.backpressure(), undefined);
  });

  it('an asynchronous write that fails breaks the store until it is reopened', async () => {
    const t = new TempEnv();
    try {
      t.store.put({ key: b('a'), value: b('1') });
      await t.store.committed();
      const faults = { fail: true };
      const store = MvccStore.open(failingPuts(t.env, faults));
      store.put({ key: b('a'), value: b('2') });
      assert.equal(store.range({ key: b('a') }).kvs[0]!.value.toString(), '2', 'read from the buffer');
      await assert.rejects(store.committed(), MvccBrokenError);
      assert.throws(() => store.range({ key: b('a') }), MvccBrokenError);
      assert.throws(() => store.put({ key: b('b'), value: b('') }), MvccBrokenError);
      await assert.rejects(store.hashKV(0), MvccBrokenError);
      const reopened = await t.reopenAsIs();
      assert.equal(reopened.currentRevision, 2);
      assert.equal(reopened.range({ key: b('a') }).kvs[0]!.value.toString(), '1');
    } finally {
      await t.dispose();
    }
  });

  withStore('a write that fails after changing the store breaks it (where etcd 3.4 panics) and leaves LMDB as it was', async (t) => {
    t.store.put({ key: b('b'), value: b('1') });
    // etcd's duplicate-key check misses a delete to "\0" (no end) covering a later put; applying the
    // put then finds its key gone. The store had already made the delete, so it must not go on.
    const txn = {
      compare: [],
      success: [{ deleteRange: { key: b('a'), rangeEnd: b('\0') } }, { put: { key: b('b'), value: b(''), ignoreValue: true } }],
      failure: [],
    };
    assert.throws(() => t.store.txn(txn), MvccBrokenError);
    assert.throws(() => t.store.range({ key: b('b') }), MvccBrokenError);
    const store = await t.reopenAsIs();
    assert.equal(store.currentRevision, 2, 'the failed txn issued no LMDB write');
    assert.equal(store.range({ key: b('b') }).count, 1);
  });
});

/** env as the store sees it, except that the revision db's asynchronous puts fail (reject) while faults.fail is set. */
function failingPuts(env: RootDatabase, faults: { fail: boolean }): RootDatabase {
  const injected = (): Promise<boolean> => Promise.reject(new Error('injected write failure'));
  const openDB = (options: DatabaseOptions & { name: string }): unknown => {
    const db = env.openDB(options);
    return options.name === MVCC_DB_NAMES.revisions ? forward(db, (prop) => (prop === 'put' && faults.fail ? injected : undefined)) : db;
  };
  return forward(env, (prop) => (prop === 'openDB' ? openDB : undefined));
}

/** A proxy of target whose properties are override(prop) where defined, else target's (methods bound to it). */
function forward<T extends object>(target: T, override: (prop: string | symbol) => unknown): T {
  return new Proxy(target, {
    get(obj, prop) {
      const replaced = override(prop);
      if (replaced !== undefined) return replaced;
      const value: unknown = Reflect.get(obj, prop, obj);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(obj) : value;
    },
  });
}
