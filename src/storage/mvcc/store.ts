// MvccStore: etcd's MVCC key-value store on an LMDB environment owned by the caller, with etcd's
// buffered backend done by lmdb-js's asynchronous writes.
//
// Writes (put, deleteRange, txn, compact) run anywhere on the main thread, outside any LMDB
// transaction. Each is one etcd write txn (at most one new revision): it updates the in-memory index
// and the write buffer (write-buffer.ts) at once and, once it has succeeded, issues its LMDB writes
// as lmdb-js asynchronous writes. lmdb-js commits every asynchronous write of one event turn in one
// transaction on its write thread, so the caller's own asynchronous writes to other databases of the
// environment in the same turn (the member's applied index) commit atomically with the store's, and
// LMDB always holds a prefix of the event turns. Reads look in the write buffer before LMDB, so they
// see every write at once.
//
// The caller must not run store writes inside env.transactionSync, transaction, childTransaction or
// batch callbacks: lmdb-js would not hand back the commit promise of the turn, and a transactionSync
// splits the turn's transaction besides.
//
// The store fails loudly instead of diverging from LMDB:
// - a write that throws after it changed the index leaves the store broken (it issued nothing to LMDB);
// - an asynchronous LMDB write that fails (its transaction's promise rejects) leaves it broken.
// A broken store throws MvccBrokenError from every call; drop it and open it again (MvccStore.open
// rebuilds the index from what LMDB holds).
import type { RootDatabase } from 'lmdb';
import { Errors } from '../../main/errors.js';
import { deferredWritesOf } from '../deferred-writes.js';
import { applyDeleteRange, applyPut, applyTxn } from './apply.js';
import { changeOf } from './change-feed.js';
import { CurrentView, MvccCore, WriteTxn, type MetaDb, type RevisionDb } from './core.js';
import { toIndexRange, type ChangeListener, type HistoryBatch, type HistoryLimits, type KeyRange } from './events.js';
import { hasCompactedRange, keepAtInTurns } from './hash.js';
import { HashWorker } from './hash-pool.js';
import { prevKvOf, scanHistory } from './history.js';
import { applyRange } from './range.js';
import { indexKey } from './tree-index.js';
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
import type { WriteView } from './view.js';

/** Sub-databases the store opens in the caller's environment (which needs maxDbs for them). */
export const MVCC_DB_NAMES = { revisions: 'mvcc.key', meta: 'mvcc.meta' } as const;

/** Opens (creating if needed) the store's sub-databases in env: here and in the hash worker. */
export function openMvccDbs(env: RootDatabase): { revisions: RevisionDb; meta: MetaDb } {
  const revisions: RevisionDb = env.openDB<Buffer, Buffer>({
    name: MVCC_DB_NAMES.revisions,
    keyEncoding: 'binary',
    encoding: 'binary',
  });
  const meta: MetaDb = env.openDB<Buffer, string>({ name: MVCC_DB_NAMES.meta, encoding: 'binary' });
  return { revisions, meta };
}

/**
 * Bound on the bytes written but not yet committed (the write buffer). Past it, backpressure()
 * asks the caller to wait for LMDB's write thread before writing more.
 */
export const MVCC_UNCOMMITTED_LIMIT_BYTES = 64 * 2 ** 20;

export class MvccBrokenError extends Error {
  override readonly name = 'MvccBrokenError';
}

/**
 * lmdb-js's RootDatabase.sync(callback) (missing from its typings): mdb_env_sync on a worker thread,
 * which makes every committed transaction durable (a no-op if the last one already is).
 */
function syncToDisk(env: RootDatabase): Promise<void> {
  const syncable = env as unknown as { sync(done: (error?: Error) => void): void };
  return new Promise((resolve, reject) => syncable.sync((error) => (error === undefined || error === null ? resolve() : reject(error))));
}

export class MvccStore {
  private readonly current: CurrentView;
  private readonly tx: WriteTxn;
  private broken: MvccBrokenError | undefined;
  private listener: ChangeListener | undefined;
  private readonly hashWorker = new HashWorker();

  private constructor(
    private readonly env: RootDatabase,
    private readonly core: MvccCore,
  ) {
    this.current = new CurrentView(core);
    this.tx = new WriteTxn(core);
  }

  /** Opens (creating if needed) the store's sub-databases in env and rebuilds the index from them. */
  static open(env: RootDatabase): MvccStore {
    const { revisions, meta } = openMvccDbs(env);
    return new MvccStore(env, MvccCore.restore(revisions, meta, deferredWritesOf(env)));
  }

  /** The revision of the last write that changed something; 1 for an empty store. */
  get currentRevision(): number {
    return this.core.currentRev;
  }

  /** The revision of the last compaction; -1 before any (etcd's compactMainRev, as HashKV reports it). */
  get compactedRevision(): number {
    return this.core.compactRev;
  }

  /** Bytes of values (and tombstones) written but not yet seen committed by LMDB. */
  get uncommittedBytes(): number {
    return this.core.pending.bytes;
  }

  range(req: RangeRequest): RangeResponse {
    this.checkUsable();
    return applyRange(this.current, req);
  }

  put(req: PutRequest): PutResponse {
    return this.write(applyPut, req);
  }

  deleteRange(req: DeleteRangeRequest): DeleteRangeResponse {
    return this.write(applyDeleteRange, req);
  }

  /**
   * Runs a txn validated as etcd's API layer does (op count, no overlapping writes); a read-only one
   * writes nothing. With `leaseExists`, a put on the path taken whose lease does not exist fails it.
   */
  txn(req: TxnRequest, leaseExists?: (id: bigint) => boolean): TxnResponse {
    if (leaseExists === undefined) return this.write(applyTxn, req);
    return this.write((tx, r) => applyTxn(tx, r, leaseExists), req);
  }

  /** Removes the history superseded at or before revision at once; LMDB removes it in this event turn's transaction. */
  compact(revision: number): void {
    this.checkUsable();
    if (revision <= this.core.compactRev) throw Errors.compacted;
    if (revision > this.core.currentRev) throw Errors.futureRev;
    try {
      this.core.compact(revision);
    } catch (e) {
      throw this.breakWith(e);
    }
  }

  /** The change feed: `listener` hears every revision written from now on (undefined: stop). */
  setChangeListener(listener: ChangeListener | undefined): void {
    this.listener = listener;
  }

  /**
   * The history since fromRevision on the keys of `ranges` (see history.ts); throws Errors.compacted
   * when fromRevision is below the compacted revision, as etcd's watch does.
   */
  events(fromRevision: number, ranges: KeyRange | readonly KeyRange[], limits: HistoryLimits = {}): HistoryBatch {
    this.checkUsable();
    const list: readonly KeyRange[] = Array.isArray(ranges) ? ranges : [ranges as KeyRange];
    return scanHistory(this.core, fromRevision, list.map(toIndexRange), limits);
  }

  /** The KeyValue bytes of key at revision - 1 (a watch event's prev_kv); undefined if none or compacted. */
  prevKv(key: Buffer, revision: number): Buffer | undefined {
    this.checkUsable();
    return prevKvOf(this.core, indexKey(key), revision);
  }

  /**
   * etcd's HashKV: hash of the history up to revision (0 = current), once LMDB holds every write;
   * computed on the hash worker thread (hash.ts hashByRev's result).
   */
  async hashKV(revision: number): Promise<HashKVResult> {
    for (;;) {
      await this.settled();
      if (!this.core.pending.idle) continue; // written to since: LMDB must hold exactly the revisions below
      const { currentRev, compactRev } = this.core;
      if (revision > 0 && revision <= compactRev) throw Errors.compacted;
      if (revision > currentRev) throw Errors.futureRev;
      const hash = await this.hashInWorker(revision === 0 ? currentRev : revision, true);
      if (hash !== undefined) return { hash, compactRevision: compactRev, revision: currentRev };
    }
  }

  /**
   * CRC-32C over every stored revision, once LMDB holds every write (etcd's Hash covers its whole
   * backend; this covers the KV data); computed on the hash worker thread (hash.ts hashAll's result).
   */
  async hash(): Promise<number> {
    for (;;) {
      await this.settled();
      if (!this.core.pending.idle) continue;
      const hash = await this.hashInWorker(this.core.currentRev, false);
      if (hash !== undefined) return hash;
    }
  }

  /** Waits for the store's hashes in progress; the caller closes the environment after. */
  async close(): Promise<void> {
    await this.hashWorker.close();
  }

  /** Bytes in use by the whole LMDB environment once every write so far is committed (etcd reports its whole backend's size). */
  async dbSizeBytes(): Promise<number> {
    await this.committed();
    const stats = this.env.getStats() as { lastPageNumber: number; pageSize: number };
    return (stats.lastPageNumber + 1) * stats.pageSize;
  }

  /**
   * Resolves once every write made so far in the environment (the store's and the caller's; held
   * ones are issued first) is committed and visible in LMDB; rejects with MvccBrokenError if a
   * store write failed.
   */
  async committed(): Promise<void> {
    this.checkUsable();
    try {
      // An empty batch is an asynchronous write: its promise resolves with the commit of this
      // turn's transaction, after every earlier one. (env.committed is not that: once a later turn
      // has begun it can resolve before the last transaction commits.)
      await deferredWritesOf(this.env).issueSoon();
      await this.env.batch(() => undefined);
    } finally {
      this.checkUsable();
    }
  }

  /** As committed(), and durable on disk too. */
  async flushed(): Promise<void> {
    await this.committed();
    await syncToDisk(this.env);
  }

  /**
   * Undefined while fewer than MVCC_UNCOMMITTED_LIMIT_BYTES wait for LMDB's write thread; past
   * that, a promise the caller must await before it writes more (writes never fail for it: an
   * applied Raft entry must apply the same on every member).
   */
  backpressure(): Promise<void> | undefined {
    return this.core.pending.bytes > MVCC_UNCOMMITTED_LIMIT_BYTES ? this.committed() : undefined;
  }

  private write<Req, Resp>(apply: (tx: WriteView, req: Req) => Resp, req: Req): Resp {
    this.checkUsable();
    const tx = this.tx;
    tx.begin();
    let resp: Resp;
    try {
      resp = apply(tx, req);
      tx.end();
    } catch (e) {
      // Harmless before the first change (a request error), fatal after.
      throw tx.changes > 0 ? this.breakWith(e) : e;
    }
    if (tx.changes > 0 && this.listener !== undefined) this.listener(changeOf(this.core, tx.rev + 1, tx.changes));
    return resp;
  }

  /**
   * Hashes the revision db up to upTo on the hash worker, in a snapshot taken after this call (LMDB
   * must hold every write now). Revisions written meanwhile are above upTo; a compaction committed
   * meanwhile changes the snapshot: then undefined (ask again). byRev: with hashKV's keep set, worked
   * out here from the index (in turns; see keepAtInTurns).
   */
  private async hashInWorker(upTo: number, byRev: boolean): Promise<number | undefined> {
    const { compactRev } = this.core;
    const keep = byRev && hasCompactedRange(this.core.revisions, compactRev) ? await keepAtInTurns(this.core, upTo, compactRev) : undefined;
    if (this.core.compactRev !== compactRev) return undefined; // compacted while the keep set was worked out
    const path = (this.env as unknown as { path: string }).path; // lmdb-js's RootDatabase has it; its typings miss it
    const result = await this.hashWorker.run({ path, upTo, compactRev, keep });
    return result.type === 'hashed' ? result.hash : undefined;
  }

  /** Waits until LMDB holds every write of the store, so that reading LMDB alone sees them all. */
  private async settled(): Promise<void> {
    do {
      await this.committed();
    } while (!this.core.pending.idle);
  }

  private breakWith(cause: unknown): MvccBrokenError {
    this.broken ??= new MvccBrokenError('mvcc: a write failed; reopen the store', { cause });
    return this.broken;
  }

  private checkUsable(): void {
    if (this.broken !== undefined) throw this.broken;
    const failed = this.core.pending.failed;
    if (failed !== undefined) throw this.breakWith(failed);
  }
}
