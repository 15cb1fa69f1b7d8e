// The MVCC hash worker (a piscina task, see storage/mvcc/hash-pool.ts): hashes the revision db of
// the main thread's LMDB environment in one read transaction, with hash.ts's loop. lmdb-js shares
// one LMDB environment between the threads of a process that open its path; the environment is
// opened and closed per task (hashes are rare), and only read.
import fs from 'node:fs';
import { open } from 'lmdb';
import { readCompactRev } from '../storage/mvcc/core.js';
import { KeepSet, hashRevisions } from '../storage/mvcc/hash.js';
import { openMvccDbs } from '../storage/mvcc/store.js';
import type { MvccHashResult, MvccHashTask } from './mvcc-hash-protocol.js';

export default async function hashTask(task: MvccHashTask): Promise<MvccHashResult> {
  // lmdb-js would create a missing environment; the store that asked has been dropped.
  if (!fs.existsSync(task.path)) throw new Error(`mvcc hash: no LMDB environment at ${task.path}`);
  const env = open({ path: task.path });
  try {
    const { revisions, meta } = openMvccDbs(env);
    const txn = env.useReadTransaction();
    try {
      const compactRev = readCompactRev(meta, txn);
      if (compactRev !== task.compactRev) return { type: 'compacted', compactRev };
      const keep = task.keep === undefined ? undefined : new KeepSet(task.keep);
      return { type: 'hashed', hash: hashRevisions(revisions, { upTo: task.upTo, compactRev, keep }, txn) };
    } finally {
      txn.done();
    }
  } finally {
    await env.close();
  }
}
