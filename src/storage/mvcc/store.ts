// MvccStore: etcd's MVCC key-value store on an LMDB environment owned by the caller.
//
// Durability and atomicity belong to the caller: every write (put, deleteRange, txn, compact) must
// run inside the caller's env.transactionSync(), so a batch of applied Raft entries and the member's
// own metadata (applied index) commit together. Each write call is one etcd write txn: at most one
// new revision.
//
// The in-memory index must match what LMDB holds, so the store fails loudly instead of diverging:
// - a write that throws after it changed something leaves the store broken (every later call throws);
// - if the LMDB transaction that held the store's writes did not commit (the caller's callback threw,
//   or returned ABORT), the next call notices and the store is broken.
// A broken store must be dropped and opened again (MvccStore.open rebuilds the index from LMDB).
import type { RootDatabase } from 'lmdb';
import { Errors } from '../../main/errors.js';
import { applyDeleteRange, applyPut, applyTxn } from './apply.js';
import { CurrentView, MvccCore, WriteTxn, readCompactRev, type MetaDb, type RevisionDb } from './core.js';
import { hashAll, hashByRev } from './hash.js';
import { applyRange } from './range.js';
import { revMain } from './revision.js';
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResult,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './types.js';

/** Sub-databases the store opens in the caller's environment (which needs maxDbs for them). */
export const MVCC_DB_NAMES = { revisions: 'mvcc.key', meta: 'mvcc.meta' } as const;

export class MvccBrokenError extends Error {
  override readonly name = 'MvccBrokenError';
}

/**
 * lmdb-js keeps its open synchronous write transaction as an object on env.env.writeTxn (one object
 * per transaction, null outside any). It is not in lmdb-js's typings; if it ever went away, every
 * write would fail loudly with "must run inside env.transactionSync()".
 */
function currentWriteTxn(env: RootDatabase): object | null {
  return (env as unknown as { env: { writeTxn?: object | null } }).env.writeTxn ?? null;
}

export class MvccStore {
  private readonly current: CurrentView;
  private readonly tx: WriteTxn;
  private broken: MvccBrokenError | undefined;
  /** The LMDB write transaction of the latest write, until it is seen committed. */
  private unverifiedTxn: object | null = null;

  private constructor(
    private readonly env: RootDatabase,
    private readonly core: MvccCore,
  ) {
    this.current = new CurrentView(core);
    this.tx = new WriteTxn(core);
  }

  /** Opens (creating if needed) the store's sub-databases in env and rebuilds the index from them. */
  static open(env: RootDatabase): MvccStore {
    const revisions: RevisionDb = env.openDB<Buffer, Buffer>({
      name: MVCC_DB_NAMES.revisions,
      keyEncoding: 'binary',
      encoding: 'binary',
    });
    const meta: MetaDb = env.openDB<Buffer, string>({ name: MVCC_DB_NAMES.meta, encoding: 'binary' });
    return new MvccStore(env, MvccCore.restore(revisions, meta));
  }

  /** The revision of the last write that changed something; 1 for an empty store. */
  get currentRevision(): number {
    return this.core.currentRev;
  }

  /** The revision of the last compaction; -1 before any (etcd's compactMainRev, as HashKV reports it). */
  get compactedRevision(): number {
    return this.core.compactRev;
  }

  range(req: RangeRequest): RangeResponse {
    this.checkUsable();
    return applyRange(this.current, req);
  }

  put(req: PutRequest): PutResponse {
    const tx = this.beginWrite();
    try {
      const resp = applyPut(tx, req);
      tx.end();
      return resp;
    } catch (e) {
      throw this.writeFailed(e);
    }
  }

  deleteRange(req: DeleteRangeRequest): DeleteRangeResponse {
    const tx = this.beginWrite();
    try {
      const resp = applyDeleteRange(tx, req);
      tx.end();
      return resp;
    } catch (e) {
      throw this.writeFailed(e);
    }
  }

  /** Runs a txn validated as etcd's API layer does (op count, no overlapping writes). */
  txn(req: TxnRequest): TxnResponse {
    const tx = this.beginWrite();
    try {
      const resp = applyTxn(tx, req);
      tx.end();
      return resp;
    } catch (e) {
      throw this.writeFailed(e);
    }
  }

  /** Removes the history superseded at or before revision, at once, in the caller's transaction. */
  compact(revision: number): void {
    this.requireWriteTxn();
    if (revision <= this.core.compactRev) throw Errors.compacted;
    if (revision > this.core.currentRev) throw Errors.futureRev;
    try {
      this.core.compact(revision);
    } catch (e) {
      throw this.breakWith(e);
    }
  }

  /** etcd's HashKV: hash of the history up to revision (0 = current). */
  hashKV(revision: number): HashKVResult {
    this.checkUsable();
    const { currentRev, compactRev } = this.core;
    if (revision > 0 && revision <= compactRev) throw Errors.compacted;
    if (revision > currentRev) throw Errors.futureRev;
    const hash = hashByRev(this.core, revision === 0 ? currentRev : revision);
    return { hash, compactRevision: compactRev, revision: currentRev };
  }

  /** CRC-32C over every stored revision (etcd's Hash covers its whole backend; this covers the KV data). */
  hash(): number {
    this.checkUsable();
    return hashAll(this.core);
  }

  /** Bytes in use by the whole LMDB environment (etcd reports its whole backend's size). */
  dbSizeBytes(): number {
    const stats = this.env.getStats() as { lastPageNumber: number; pageSize: number };
    return (stats.lastPageNumber + 1) * stats.pageSize;
  }

  private requireWriteTxn(): void {
    this.checkUsable();
    const txn = currentWriteTxn(this.env);
    if (txn === null) throw new Error('mvcc: writes must run inside env.transactionSync()');
    this.unverifiedTxn = txn;
  }

  private beginWrite(): WriteTxn {
    this.requireWriteTxn();
    this.tx.begin();
    return this.tx;
  }

  /** A write threw: harmless before its first change (a request error), fatal after. */
  private writeFailed(e: unknown): unknown {
    return this.tx.changes > 0 ? this.breakWith(e) : e;
  }

  private breakWith(cause: unknown): MvccBrokenError {
    this.broken = new MvccBrokenError('mvcc: a write failed part way; reopen the store', { cause });
    return this.broken;
  }

  private checkUsable(): void {
    if (this.broken !== undefined) throw this.broken;
    if (this.unverifiedTxn === null) return;
    const txn = currentWriteTxn(this.env);
    if (txn === this.unverifiedTxn) return;
    // The transaction of our last write has ended (or a nested one returned to its parent).
    this.verifyCommitted();
    this.unverifiedTxn = txn;
  }

  /** Compares LMDB's state with ours: revisions and compaction written by an aborted transaction are missing. */
  private verifyCommitted(): void {
    let lastMain = 1;
    for (const key of this.core.revisions.getKeys({ reverse: true, limit: 1 })) lastMain = revMain(key);
    const compactRev = readCompactRev(this.core.meta);
    if (compactRev !== this.core.compactRev || Math.max(lastMain, compactRev) !== this.core.currentRev) {
      throw this.breakWith(
        new Error(
          `LMDB holds revision ${Math.max(lastMain, compactRev)} compacted at ${compactRev}, ` +
            `the index ${this.core.currentRev} compacted at ${this.core.compactRev}: a transaction with store writes did not commit`,
        ),
      );
    }
  }
}
