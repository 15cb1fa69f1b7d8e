// The task of the MVCC hash worker (workers/mvcc-hash.ts), run on a piscina pool
// (storage/mvcc/hash-pool.ts). Structured clone carries it; the keep set travels as a transferred buffer.

export interface MvccHashTask {
  /** The LMDB environment's path, as the main thread opened it. */
  path: string;
  /** Revisions with a main revision above this one are left out. */
  upTo: number;
  /** The compacted revision the main thread's index is at; the worker hashes only a snapshot at the same one. */
  compactRev: number;
  /** The keep set (hash.ts keepAt) as flat (main, sub) pairs; undefined: every revision counts. */
  keep: Float64Array<ArrayBuffer> | undefined;
}

export type MvccHashResult =
  /** The hash of a snapshot at the task's compacted revision. */
  | { type: 'hashed'; hash: number }
  /** The snapshot was at another compacted revision (a compaction committed meanwhile): ask again. */
  | { type: 'compacted'; compactRev: number };
