// The WAL's segment files, written through the WAL writer thread and directly: group commit,
// suffix replacement, compaction, segment rotation and deletion, torn writes, corruption, and what
// a restart reads back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EntryType, type Entry } from '../../src/main/raft/types.js';
import { WalClient } from '../../src/main/server/wal-client.js';
import { encodeBatch } from '../../src/storage/wal/record.js';
import { WalCorruptError, WalStore } from '../../src/storage/wal/wal-store.js';

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
  store.write([{ batch: encodeBatch([entry(2, 2, 'B')]) }]);
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

const tempWalDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wal-'));
const segmentFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tlog')).sort();
const conf = { voters: [1n], learners: [] };

test('a write torn by a crash is cut off at reopen; writes after it read back', async () => {
  const dir = tempWalDir();
  let store = WalStore.open(dir);
  store.write([{ batch: encodeBatch([entry(1, 1, 'a'), entry(2, 1, 'b')]), hardState: { term: 1, vote: 1n, commit: 2 } }]);
  store.write([{ batch: encodeBatch([entry(3, 1, 'c')]) }]);
  await store.close();
  // Tear the last write: its final bytes never reached the disk, and garbage follows.
  const file = path.join(dir, segmentFiles(dir)[0]!);
  const whole = fs.readFileSync(file);
  fs.writeFileSync(file, Buffer.concat([whole.subarray(0, whole.length - 3), Buffer.from([0xde, 0xad])]));

  store = WalStore.open(dir);
  assert.deepEqual(simplify(store.read().entries), [
    [1, 1, 'a'],
    [2, 1, 'b'],
  ]);
  store.write([{ batch: encodeBatch([entry(3, 2, 'C')]), hardState: { term: 2, vote: 1n, commit: 3 } }]);
  await store.close();
  store = WalStore.open(dir);
  const state = store.read();
  assert.deepEqual(simplify(state.entries), [
    [1, 1, 'a'],
    [2, 1, 'b'],
    [3, 2, 'C'],
  ]);
  assert.deepEqual(state.hardState, { term: 2, vote: 1n, commit: 3 });
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

test('segments rotate; a compaction deletes the old ones and the rest replays to the same log', async () => {
  const dir = tempWalDir();
  let store = WalStore.open(dir, { segmentBytes: 300 });
  store.write([{ snapshot: { index: 0, term: 0, conf }, hardState: { term: 1, vote: 1n, commit: 0 } }]);
  for (let i = 1; i <= 40; i++) {
    store.write([{ batch: encodeBatch([entry(i, 1, `value-${i}`)]), hardState: { term: 1, vote: 1n, commit: i - 1 } }]);
  }
  const before = segmentFiles(dir);
  assert.ok(before.length >= 5, `rotated into ${before.length} segments`);
  store.write([{ snapshot: { index: 30, term: 1, conf }, compactTo: 25 }]);
  const after = segmentFiles(dir);
  assert.ok(after.length < before.length, `${before.length} segments before compaction, ${after.length} after`);
  assert.equal(after[after.length - 1], before[before.length - 1], 'the current segment stays');
  await store.close();

  store = WalStore.open(dir, { segmentBytes: 300 });
  const state = store.read();
  assert.deepEqual(state.snapshot, { index: 30, term: 1, conf });
  assert.deepEqual(state.hardState, { term: 1, vote: 1n, commit: 39 });
  assert.deepEqual(state.entries.map((e) => e.index), Array.from({ length: 10 }, (_, i) => 31 + i));
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

test('a snapshot from the leader drops the whole log, over segment boundaries, and the log goes on after it', async () => {
  const dir = tempWalDir();
  let store = WalStore.open(dir, { segmentBytes: 200 });
  store.write([{ snapshot: { index: 0, term: 0, conf } }]);
  for (let i = 1; i <= 20; i++) store.write([{ batch: encodeBatch([entry(i, 1, `old-${i}`)]) }]);
  store.write([{ snapshot: { index: 12, term: 3, conf }, compactTo: Number.MAX_SAFE_INTEGER }]);
  assert.equal(segmentFiles(dir).length, 1, 'only the current segment stays');
  store.write([{ batch: encodeBatch([entry(13, 3, 'new-13'), entry(14, 3, 'new-14')]) }]);
  await store.close();

  store = WalStore.open(dir, { segmentBytes: 200 });
  const state = store.read();
  assert.deepEqual(state.snapshot, { index: 12, term: 3, conf });
  assert.deepEqual(simplify(state.entries), [
    [13, 3, 'new-13'],
    [14, 3, 'new-14'],
  ]);
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

test('a damaged record before the last segment is corruption: the WAL refuses to open', async () => {
  const dir = tempWalDir();
  const store = WalStore.open(dir, { segmentBytes: 100 });
  for (let i = 1; i <= 10; i++) store.write([{ batch: encodeBatch([entry(i, 1, `value-${i}`)]) }]);
  await store.close();
  const files = segmentFiles(dir);
  assert.ok(files.length > 2);
  const file = path.join(dir, files[0]!);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 2]! ^= 0xff;
  fs.writeFileSync(file, bytes);
  assert.throws(() => WalStore.open(dir), (e: unknown) => e instanceof WalCorruptError && /0{15}1\.tlog is corrupt at byte [1-9]\d* and later segments follow it/.test(e.message));
  fs.rmSync(dir, { recursive: true });
});
