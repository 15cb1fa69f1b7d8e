// The MVCC core, as etcd's mvcc store: a revision db in LMDB (revision key -> mvccpb.KeyValue bytes)
// plus the in-memory index from key to revisions, and the current / compacted revision.
// Reads look revisions up in the index and values in the write buffer, then LMDB. A write txn's
// changes go to the index and the write buffer at once, and to LMDB (held back, then issued as
// asynchronous writes: deferred-writes.ts) only when the whole write txn has succeeded, so LMDB
// never holds part of one.
import type { Database, Transaction } from 'lmdb';
import { Errors } from '../../main/errors.js';
import type { DeferredWrites } from '../deferred-writes.js';
import { decodeKeyValue, encodePut, encodeTombstone } from './kv-codec.js';
import { newVisible, type KeyIndex } from './key-index.js';
import { RevKeyScratch, isTombstoneKey, revMain, revSub } from './revision.js';
import { TreeIndex, type RangeEnd } from './tree-index.js';
import type { KeyValue } from './types.js';
import type { MvccRangeResult, ReadView, WriteView } from './view.js';
import { WriteBuffer } from './write-buffer.js';

export type RevisionDb = Database<Buffer, Buffer>;
export type MetaDb = Database<Buffer, string>;

/** Meta key of the last compaction's revision (8-byte big-endian), as etcd's finishedCompactRev. */
const COMPACT_REV_KEY = 'finishedCompactRev';

/** The compacted revision LMDB holds (as the given read transaction sees it, if any); -1 if never compacted. */
export function readCompactRev(meta: MetaDb, transaction?: Transaction): number {
  const bytes = transaction === undefined ? meta.getBinary(COMPACT_REV_KEY) : meta.get(COMPACT_REV_KEY, { transaction });
  return bytes === undefined ? -1 : Number(bytes.readBigUInt64BE(0));
}

export class MvccCore {
  /** Scratch for index lookups; never held across a call that could reuse it. */
  private readonly visible = newVisible();
  private readonly revKeys = new RevKeyScratch();
  /** Whether each sub revision of the write txn in progress is a tombstone (read when it is issued). */
  private readonly tombstones: boolean[] = [];
  readonly pending: WriteBuffer;

  private constructor(
    readonly revisions: RevisionDb,
    readonly meta: MetaDb,
    private readonly writes: DeferredWrites,
    readonly index: TreeIndex,
    /** The revision of the last write txn that changed something (1 for an empty store). */
    public currentRev: number,
    /** The last compaction's revision; -1 before any (as etcd's compactMainRev). */
    public compactRev: number,
  ) {
    this.pending = new WriteBuffer(currentRev);
  }

  /** Rebuilds the index from the revision db, in revision order (etcd's restore). */
  static restore(revisions: RevisionDb, meta: MetaDb, writes: DeferredWrites): MvccCore {
    const compactRev = readCompactRev(meta);
    const index = new TreeIndex();
    let lastMain = 1;
    for (const { key: rk, value } of revisions.getRange()) {
      const main = revMain(rk);
      const sub = revSub(rk);
      const kv = decodeKeyValue(value);
      const key = kv.key.toString('latin1');
      const ki = index.get(key);
      if (isTombstoneKey(rk)) {
        if (ki === undefined) throw new Error(`mvcc: tombstone at ${main}/${sub} of a key never put`);
        ki.tombstone(main, sub);
      } else if (ki === undefined) {
        index.getOrCreate(key).restore(kv.createRevision, main, sub, kv.version);
      } else {
        ki.put(main, sub);
      }
      lastMain = main;
    }
    // A compaction may have removed every revision up to the compacted one.
    return new MvccCore(revisions, meta, writes, index, Math.max(lastMain, compactRev), compactRev);
  }

  /**
   * etcd's rangeKeys. curRev is the reading view's revision: atRev above it is a future revision,
   * atRev <= 0 means it, and below the compacted revision is gone.
   */
  rangeKeys(key: string, end: RangeEnd, curRev: number, atRev: number, limit: number, countOnly: boolean): MvccRangeResult {
    if (atRev > curRev) throw Errors.futureRev;
    const rev = atRev <= 0 ? curRev : atRev;
    if (rev < this.compactRev) throw Errors.compacted;
    const kvs: KeyValue[] = [];
    let count = 0;
    if (end === undefined) {
      const ki = this.index.get(key);
      if (ki !== undefined && ki.lookup(rev, this.visible)) {
        count = 1;
        if (!countOnly) kvs.push(this.readKv(this.visible.main, this.visible.sub));
      }
    } else {
      this.index.forRange(key, end, (ki) => {
        if (!ki.lookup(rev, this.visible)) return;
        count++;
        if (!countOnly && (limit <= 0 || kvs.length < limit)) kvs.push(this.readKv(this.visible.main, this.visible.sub));
      });
    }
    return { kvs, count, rev: curRev };
  }

  private readKv(main: number, sub: number): KeyValue {
    const stored = this.pending.get(main, sub) ?? this.revisions.getBinaryFast(this.revKeys.set(main, sub).plain);
    if (stored === undefined) throw new Error(`mvcc: revision ${main}/${sub} is in the index but not in the revision db`);
    // The result owns its bytes, so copy them out, into pooled memory: getBinaryFast hands back
    // lmdb-js's shared read buffer (its `length` an own property set per read; getBinary's own copy
    // allocates a fresh ArrayBuffer per read, several times slower for small values), and a buffered
    // value is what lmdb-js's write thread reads.
    const bytes = Buffer.allocUnsafe(stored.length);
    bytes.set(new Uint8Array(stored.buffer, stored.byteOffset, bytes.length));
    return decodeKeyValue(bytes);
  }

  /** Writes a put at (rev, sub): version and create revision follow the key's state at rev. */
  put(rev: number, sub: number, key: Buffer, keyStr: string, value: Buffer, lease: bigint): void {
    const ki = this.index.get(keyStr);
    let createRevision = rev;
    let version = 1;
    if (ki !== undefined && ki.lookup(rev, this.visible)) {
      createRevision = this.visible.createRevision;
      version = this.visible.version + 1;
    }
    this.pending.add(rev, sub, encodePut(key, createRevision, rev, version, value, lease));
    this.tombstones[sub] = false;
    (ki ?? this.index.getOrCreate(keyStr)).put(rev, sub);
  }

  /** Writes a tombstone for an existing key at (rev, sub). */
  tombstone(ki: KeyIndex, rev: number, sub: number): void {
    this.pending.add(rev, sub, encodeTombstone(ki.key));
    this.tombstones[sub] = true;
    ki.tombstone(rev, sub);
  }

  /** Issues the LMDB writes of revision rev's `count` changes, once its write txn has succeeded. */
  issue(rev: number, count: number): void {
    for (let sub = 0; sub < count; sub++) {
      this.revKeys.set(rev, sub);
      const key = this.tombstones[sub] === true ? this.revKeys.tombstone : this.revKeys.plain;
      this.pending.track(this.writes.put(this.revisions, key, this.pending.get(rev, sub)!));
    }
    this.pending.issued(rev);
  }

  /** Keys in the range that exist at rev. */
  existing(key: string, end: RangeEnd, rev: number): KeyIndex[] {
    const found: KeyIndex[] = [];
    this.index.forRange(key, end, (ki) => {
      if (ki.lookup(rev, this.visible)) found.push(ki);
    });
    return found;
  }

  /**
   * Removes every revision superseded at or before rev and records rev; bounds are the caller's.
   * The LMDB writes are issued once the index is compacted, all in this event turn's transaction.
   */
  compact(rev: number): void {
    const removed: number[] = []; // (main, sub, 1 if tombstone) per revision
    this.index.compact(rev, (main, sub, tombstone) => {
      removed.push(main, sub, tombstone ? 1 : 0);
      this.pending.drop(main, sub);
    });
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(BigInt(rev));
    this.pending.track(this.writes.put(this.meta, COMPACT_REV_KEY, bytes));
    for (let i = 0; i < removed.length; i += 3) {
      this.revKeys.set(removed[i]!, removed[i + 1]!);
      this.pending.track(this.writes.remove(this.revisions, removed[i + 2] === 1 ? this.revKeys.tombstone : this.revKeys.plain));
    }
    this.compactRev = rev;
  }
}

/** The store as of now: what a Range outside any txn reads (etcd's storeTxnRead). */
export class CurrentView implements ReadView {
  constructor(private readonly core: MvccCore) {}

  get rev(): number {
    return this.core.currentRev;
  }

  get firstRev(): number {
    return this.core.compactRev;
  }

  rangeKeys(key: string, end: RangeEnd, atRev: number, limit: number, countOnly: boolean): MvccRangeResult {
    return this.core.rangeKeys(key, end, this.core.currentRev, atRev, limit, countOnly);
  }
}

/**
 * One etcd write txn (storeTxnWrite), reused for every write: begin(), any number of changes at
 * revision rev + 1 with sub revisions 0, 1, ..., then end() raises the store's revision if anything changed.
 */
export class WriteTxn implements WriteView {
  rev = 0;
  changes = 0;

  constructor(private readonly core: MvccCore) {}

  begin(): void {
    this.rev = this.core.currentRev;
    this.changes = 0;
  }

  /** The write txn succeeded: its changes go to LMDB and the store's revision rises if there are any. */
  end(): void {
    if (this.changes === 0) return;
    this.core.issue(this.rev + 1, this.changes);
    this.core.currentRev = this.rev + 1;
  }

  get firstRev(): number {
    return this.core.compactRev;
  }

  /** Reads see this txn's own writes once it has made any. */
  rangeKeys(key: string, end: RangeEnd, atRev: number, limit: number, countOnly: boolean): MvccRangeResult {
    const curRev = this.changes > 0 ? this.rev + 1 : this.rev;
    return this.core.rangeKeys(key, end, curRev, atRev, limit, countOnly);
  }

  put(key: Buffer, keyStr: string, value: Buffer, lease: bigint): number {
    this.core.put(this.rev + 1, this.changes, key, keyStr, value, lease);
    this.changes++;
    return this.rev + 1;
  }

  deleteRange(key: string, end: RangeEnd): { deleted: number; rev: number } {
    const doomed = this.core.existing(key, end, this.changes > 0 ? this.rev + 1 : this.rev);
    for (const ki of doomed) {
      this.core.tombstone(ki, this.rev + 1, this.changes);
      this.changes++;
    }
    return { deleted: doomed.length, rev: this.changes > 0 ? this.rev + 1 : this.rev };
  }
}
