// A deterministic workload in event turns, for the reopen tests: turn n makes a few store writes
// (puts, a txn, deletes; now and then a compaction, or megabytes that make lmdb-js start writing the
// turn's transaction before the turn ends), then the caller records n in a marker database of the
// same environment, in the same event turn and through the same held writes (deferred-writes.ts),
// as the member records its applied index. Replaying turns 1..n on an empty store gives the state
// LMDB must hold when its marker says n.
import type { RootDatabase } from 'lmdb';
import { deferredWritesOf } from '../../src/storage/deferred-writes.js';
import { CompareResult, CompareTarget, type MvccStore } from '../../src/storage/mvcc/index.js';

const MARKER_DB = 'test.marker';
const MARKER_KEY = 'turn';

const markerDb = (env: RootDatabase) => env.openDB<Buffer, string>({ name: MARKER_DB, encoding: 'binary' });

export function markTurn(env: RootDatabase, n: number): void {
  void deferredWritesOf(env).put(markerDb(env), MARKER_KEY, Buffer.from(String(n)));
}

/** The last turn marked in LMDB (0 if none). */
export function markedTurn(env: RootDatabase): number {
  return Number(markerDb(env).get(MARKER_KEY)?.toString() ?? 0);
}

const key = (n: number): Buffer => Buffer.from(`key/${String(n % 17).padStart(2, '0')}`);

export function applyTurn(store: MvccStore, n: number): void {
  store.put({ key: key(n), value: Buffer.from(`v${n}`), lease: BigInt(n % 3) });
  store.txn({
    compare: [{ key: key(n + 1), target: CompareTarget.Version, result: CompareResult.Greater, version: 1 }],
    success: [{ put: { key: key(n + 2), value: Buffer.from(`t${n}`), prevKv: true } }, { deleteRange: { key: key(n + 3) } }],
    failure: [{ put: { key: key(n + 1), value: Buffer.from(`f${n}`) } }],
  });
  if (n % 5 === 0) store.deleteRange({ key: key(n + 4), rangeEnd: key(n + 7) });
  if (n % 40 === 0) for (let i = 0; i < 5; i++) store.put({ key: key(n + i), value: Buffer.alloc(2 ** 20, n) });
  if (n % 11 === 0 && store.currentRevision - 20 > Math.max(store.compactedRevision, 1)) store.compact(store.currentRevision - 20);
}
