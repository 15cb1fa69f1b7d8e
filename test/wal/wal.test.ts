// The WAL on LMDB, written through the WAL writer thread: group commit, suffix replacement,
// compaction, and what a restart reads back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EntryType, type Entry } from '../../src/main/raft/types.js';
import { WalClient } from '../../src/main/server/wal-client.js';
import { encodeBatch } from '../../src/storage/wal/record.js';
import { WalStore } from '../../src/storage/wal/wal-store.js';

const entry = (index: number, term: number, text: string): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: Buffer.from(text),
});

const simplify = (entries: Entry[]) => entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]);

test('writes through the WAL thread are durable in order and read back after reopening', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
  const wal = new WalClient(dir, (e) => assert.fail(e));
  const durable: number[] = [];
  // Many writes in one turn: the thread merges them into few commits, and acknowledges in order.
  for (let i = 1; i <= 200; i++) {
    wal.write({ batch: encodeBatch([entry(i, 1, `v${i}`)]) }, () => durable.push(i));
  }
  await new Promise<void>((resolve) => wal.write({ hardState: { term: 1, vote: 7n, commit: 150 } }, resolve));
  assert.deepEqual(durable, Array.from({ length: 200 }, (_, i) => i + 1));
  await wal.close();

  const store = WalStore.open(dir);
  const state = store.read();
  assert.deepEqual(state.hardState, { term: 1, vote: 7n, commit: 150 });
  assert.equal(state.entries.length, 200);
  assert.deepEqual(simplify(state.entries).slice(0, 2), [
    [1, 1, 'v1'],
    [2, 1, 'v2'],
  ]);
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

test('afterDurable waits for the writes queued before it, and for nothing when none are', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
  const wal = new WalClient(dir, (e) => assert.fail(e));
  const order: string[] = [];
  wal.afterDurable(() => order.push('nothing queued'));
  assert.deepEqual(order, ['nothing queued'], 'runs at once');
  wal.write({ batch: encodeBatch([entry(1, 1, 'a')]) }, () => order.push('write 1'));
  wal.afterDurable(() => order.push('after 1'));
  await new Promise<void>((resolve) => wal.write({ batch: encodeBatch([entry(2, 1, 'b')]) }, resolve));
  assert.deepEqual(order, ['nothing queued', 'write 1', 'after 1']);
  await wal.close();
  fs.rmSync(dir, { recursive: true });
});

test('entries from a new leader replace the conflicting suffix; compaction drops the prefix', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
  const store = WalStore.open(dir);
  store.write([{ batch: encodeBatch([entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')]) }]);
  assert.equal(store.write([{ batch: encodeBatch([entry(2, 2, 'B')]) }]), 2);
  assert.deepEqual(simplify(store.read().entries), [
    [1, 1, 'a'],
    [2, 2, 'B'],
  ]);
  store.write([
    { batch: encodeBatch([entry(3, 2, 'C'), entry(4, 2, 'D')]) },
    { snapshot: { index: 2, term: 2, conf: { voters: [1n, 2n ** 64n - 1n], learners: [] } }, compactTo: 1 },
  ]);
  const state = store.read();
  assert.deepEqual(state.snapshot, { index: 2, term: 2, conf: { voters: [1n, 2n ** 64n - 1n], learners: [] } });
  assert.deepEqual(simplify(state.entries), [
    [3, 2, 'C'],
    [4, 2, 'D'],
  ]);
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

const CONF = { voters: [1n], learners: [] };
const batchOf = (first: number, last: number, term: number) => {
  const entries: Entry[] = [];
  for (let i = first; i <= last; i++) entries.push(entry(i, term, `t${term}-${i}`));
  return encodeBatch(entries);
};

/** Commits nothing but compaction slices until none is left; returns how many it took. */
function drainCompaction(store: WalStore): number {
  let commits = 0;
  while (store.compacting) {
    store.write([]);
    commits++;
    assert.ok(commits < 100, 'compaction never ends');
  }
  return commits;
}

test('compaction drops the covered entries a slice per commit, and resumes after a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
  let store = WalStore.open(dir);
  store.write([{ batch: batchOf(1, 3000, 1) }]);
  // A snapshot at 2,900 that keeps 100 entries behind it for slow followers: 2,800 to drop.
  store.write([{ snapshot: { index: 2900, term: 1, conf: CONF }, compactTo: 2800 }]);
  // The first commit dropped one slice of 512; what is left is never read.
  assert.ok(store.compacting);
  assert.deepEqual(simplify(store.read().entries).map(([index]) => index), Array.from({ length: 100 }, (_, i) => 2901 + i));
  store.write([]);
  await store.close();

  // Reopened: the rest (2,800 − 2 × 512 = 1,776 entries) goes in 4 more slices, the last one short.
  store = WalStore.open(dir);
  assert.ok(store.compacting);
  assert.equal(drainCompaction(store), 4);
  await store.close();
  store = WalStore.open(dir);
  assert.equal(store.compacting, false);
  assert.equal(store.read().entries.length, 100);
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

test("an installed snapshot drops the log above it at once and below it by slices, never the new leader's entries", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
  const store = WalStore.open(dir);
  store.write([{ batch: batchOf(1, 1200, 1) }]);
  // The leader's snapshot at 1,000 replaces the whole log, the stale 1,001–1,200 included; the
  // leader's entries from 1,001 follow in the same group commit.
  store.write([
    { snapshot: { index: 1000, term: 2, conf: CONF }, compactTo: Number.MAX_SAFE_INTEGER },
    { batch: batchOf(1001, 1010, 2) },
  ]);
  assert.equal(drainCompaction(store), 1);
  const state = store.read();
  assert.deepEqual(
    simplify(state.entries),
    Array.from({ length: 10 }, (_, i) => [1001 + i, 2, `t2-${1001 + i}`]),
  );
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

test('the WAL thread drops a compacted log by itself while no writes come', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
  const wal = new WalClient(dir, (e) => assert.fail(e));
  const write = (w: Parameters<WalClient['write']>[0]) => new Promise<void>((resolve) => wal.write(w, resolve));
  await write({ batch: batchOf(1, 2000, 1) });
  await write({ snapshot: { index: 2000, term: 1, conf: CONF }, compactTo: 2000 });
  // Four slices of about a millisecond or two each; a second is ample even on a busy machine.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await wal.close();
  const store = WalStore.open(dir);
  assert.equal(store.compacting, false);
  assert.equal(store.read().entries.length, 0);
  await store.close();
  fs.rmSync(dir, { recursive: true });
});
