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
