// What the request layer (range.ts, apply.ts) sees of the store: etcd's mvcc TxnRead / TxnWrite.
// Keys are latin1 strings (one char per byte); see tree-index.ts for RangeEnd.
import type { RangeEnd } from './tree-index.js';
import type { KeyValue } from './types.js';

export interface MvccRangeResult {
  kvs: KeyValue[];
  /** Keys in the range at the revision read (regardless of limit). */
  count: number;
  /** The view's revision when the read ran (etcd's RangeResult.Rev, the response header revision). */
  rev: number;
}

export interface ReadView {
  /** etcd's TxnRead.Rev(): the store revision the view started from. */
  readonly rev: number;
  /** etcd's FirstRev(): the compacted revision (-1 before any compaction). */
  readonly firstRev: number;
  /**
   * etcd's rangeKeys: the keys in the range at revision `atRev` (<= 0: the view's own revision),
   * at most `limit` of them (<= 0: all); none when countOnly. Throws Errors.futureRev / Errors.compacted.
   */
  rangeKeys(key: string, end: RangeEnd, atRev: number, limit: number, countOnly: boolean): MvccRangeResult;
}

/** One etcd write transaction: every change gets revision rev + 1 and the next sub revision. */
export interface WriteView extends ReadView {
  /** Changes made so far; the store's revision rises by one at the end if this is > 0. */
  readonly changes: number;
  /** Writes key = value; returns the revision written (rev + 1). */
  put(key: Buffer, keyStr: string, value: Buffer, lease: bigint): number;
  /** Tombstones the keys in the range that exist; returns how many and the response revision. */
  deleteRange(key: string, end: RangeEnd): { deleted: number; rev: number };
}
