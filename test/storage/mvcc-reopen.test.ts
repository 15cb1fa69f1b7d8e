// Reopening: the index is rebuilt from LMDB alone, so after closing and reopening the environment
// every read at every revision, every hash and both revisions must be what they were.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { MvccStore } from '../../src/storage/mvcc/index.js';
import { TempEnv, b } from './helpers.js';

const all = { key: b('\0'), rangeEnd: b('\0') };

/** Everything observable: both revisions, both hashes, and the whole key space at every readable revision. */
function snapshot(store: MvccStore): unknown {
  const reads = [];
  for (let rev = Math.max(store.compactedRevision, 1); rev <= store.currentRevision; rev++) {
    // HashKV, unlike Range, refuses the compacted revision itself.
    reads.push({ rev, range: store.range({ ...all, revision: rev }), hashKV: rev > store.compactedRevision ? store.hashKV(rev) : undefined });
  }
  return { current: store.currentRevision, compacted: store.compactedRevision, hash: store.hash(), reads };
}

it('a reopened store answers exactly as before', async () => {
  const t = new TempEnv();
  try {
    const big = Buffer.alloc(1 << 20, 7); // values may be large (etcd allows 1.5 MiB requests)
    t.write((s) => {
      s.put({ key: b('a'), value: b('1'), lease: 3n });
      s.put({ key: b('b'), value: big });
    });
    t.write((s) => s.put({ key: b('a'), value: b('2') }));
    t.write((s) => s.deleteRange({ key: b('b') }));
    t.write((s) =>
      s.txn({ compare: [], success: [{ put: { key: b('b'), value: b('again') } }, { put: { key: b('c\x00'), value: b('') } }, { deleteRange: { key: b('a') } }], failure: [] }),
    );
    t.write((s) => s.put({ key: b('a'), value: b('3') }));
    const before = snapshot(t.store);
    assert.deepEqual(snapshot(await t.reopen()), before);

    t.write((s) => s.compact(4));
    t.write((s) => s.put({ key: b('c\x00'), value: b('x') }));
    const compacted = snapshot(t.store);
    assert.deepEqual(snapshot(await t.reopen()), compacted);
    assert.equal(t.store.compactedRevision, 4);
  } finally {
    await t.dispose();
  }
});

it('reopening after a compaction that left no revision keeps the revision', async () => {
  const t = new TempEnv();
  try {
    t.write((s) => s.put({ key: b('a'), value: b('1') })); // 2
    t.write((s) => s.deleteRange({ key: b('a') })); // 3
    t.write((s) => s.compact(3)); // removes both revisions
    const store = await t.reopen();
    assert.equal(store.currentRevision, 3);
    assert.equal(store.compactedRevision, 3);
    assert.deepEqual(t.write((s) => s.put({ key: b('a'), value: b('2') })), { revision: 4 });
  } finally {
    await t.dispose();
  }
});

it('writes committed with fsync survive a reopen', async () => {
  const t = new TempEnv(false);
  try {
    for (let i = 0; i < 5; i++) t.write((s) => s.put({ key: b(`k${i}`), value: b(`${i}`) }));
    const before = snapshot(t.store);
    assert.deepEqual(snapshot(await t.reopen()), before);
  } finally {
    await t.dispose();
  }
});
