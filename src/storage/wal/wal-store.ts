// The Raft log on LMDB: entries keyed by index, plus the hard state and the last snapshot's
// metadata. Every write is one transaction, fsynced before write() returns.
//
// Compaction drops the entries a snapshot covers a slice at a time: deleting 100,000 entries in
// one transaction held the writer for 0.3 s unloaded (every proposal waited behind it), so each
// commit deletes at most COMPACT_STEP of them, and the writer thread adds commits of their own
// once writes pause. Entries waiting to be dropped are never read: they are at or
// below the snapshot, and read() starts above it.
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Entry, HardState, SnapshotMeta } from '../../main/raft/types.js';
import { NONE } from '../../main/raft/types.js';
import { pack, unpack } from '../msgpack.js';
import { decodeRecord, forEachInBatch } from './record.js';

export interface WalState {
  hardState: HardState;
  snapshot: SnapshotMeta | undefined;
  /** Entries after the snapshot, in index order. */
  entries: Entry[];
}

/** One durable step: all parts are optional and land in one fsynced transaction. */
export interface WalWrite {
  hardState?: HardState;
  snapshot?: SnapshotMeta;
  /** encodeBatch() output; entries replace any existing suffix from their first index. */
  batch?: Uint8Array;
  /** Drop entries with index <= compactTo (covered by a snapshot; a snapshot installed from the leader drops the whole log). */
  compactTo?: number;
}

const HARD_STATE = 'hardState';
const SNAPSHOT = 'snapshot';
/** Entries at or below this index are dropped a slice at a time (kept across restarts). */
const COMPACT_TO = 'compactTo';
/** Entries a commit drops at most: about 1.5 ms of deletes here. */
const COMPACT_STEP = 512;
const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export class WalStore {
  private constructor(
    private readonly env: RootDatabase,
    private readonly entries: Database<Buffer, number>,
    private readonly meta: Database<Buffer, string>,
    private lastIndex: number,
    /** The last snapshot's index: no entry at or below it is read again. */
    private snapshotIndex: number,
    /** Entries at or below this index are still to be dropped. */
    private compactTo: number,
  ) {}

  static open(path: string): WalStore {
    // overlappingSync off: a synchronous commit returns only after the data is on disk.
    const env = open({ path, overlappingSync: false, maxDbs: 4 });
    const entries = env.openDB<Buffer, number>({ name: 'entries', encoding: 'binary' });
    const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    let lastIndex = 0;
    for (const key of entries.getKeys({ reverse: true, limit: 1 })) lastIndex = key;
    const snap = meta.get(SNAPSHOT);
    const compactTo = meta.get(COMPACT_TO);
    return new WalStore(
      env,
      entries,
      meta,
      lastIndex,
      snap === undefined ? 0 : unpack<SnapshotMeta>(snap).index,
      compactTo === undefined ? 0 : unpack<number>(compactTo),
    );
  }

  /** Entries covered by a snapshot are still being dropped: write([]) drops the next slice. */
  get compacting(): boolean {
    return this.compactTo > 0;
  }

  read(): WalState {
    const hs = this.meta.get(HARD_STATE);
    const snap = this.meta.get(SNAPSHOT);
    const snapshot = snap === undefined ? undefined : unpack<SnapshotMeta>(snap);
    const entries: Entry[] = [];
    for (const { key, value } of this.entries.getRange({ start: (snapshot?.index ?? 0) + 1 })) {
      // Copy out of LMDB's memory map: the log outlives this read transaction.
      entries.push(decodeRecord(key, Buffer.from(value)));
    }
    return { hardState: hs === undefined ? EMPTY_HARD_STATE : unpack<HardState>(hs), snapshot, entries };
  }

  /**
   * Applies writes in order in one transaction, with a slice of any pending compaction, fsynced
   * before return (group commit); returns the last index.
   */
  write(writes: readonly WalWrite[]): number {
    // Only the last hard state of the group is written: the transaction commits them all at once.
    let hardState: HardState | undefined;
    this.env.transactionSync(() => {
      for (const w of writes) {
        if (w.hardState !== undefined) hardState = w.hardState;
        this.writeOne(w);
      }
      if (hardState !== undefined) this.meta.putSync(HARD_STATE, pack(hardState));
      this.compactStep();
    });
    return this.lastIndex;
  }

  private writeOne(w: WalWrite): void {
    if (w.snapshot !== undefined) {
      this.meta.putSync(SNAPSHOT, pack(w.snapshot));
      this.snapshotIndex = w.snapshot.index;
    }
    if (w.compactTo !== undefined) this.compact(w.compactTo);
    if (w.batch !== undefined) this.appendBatch(w.batch);
  }

  /**
   * Entries above the snapshot (a log the installed snapshot replaces) go at once: new entries
   * will take their indexes. Those at or below it are left to compactStep().
   */
  private compact(to: number): void {
    if (to > this.snapshotIndex) {
      this.removeKeys([...this.entries.getKeys({ start: this.snapshotIndex + 1, end: to + 1 })]);
    }
    const later = Math.min(to, this.snapshotIndex);
    if (later <= this.compactTo) return;
    this.compactTo = later;
    this.meta.putSync(COMPACT_TO, pack(later));
  }

  /** Drops up to COMPACT_STEP entries at or below compactTo; none left ends the compaction. */
  private compactStep(): void {
    if (this.compactTo === 0) return;
    const keys = [...this.entries.getKeys({ end: this.compactTo + 1, limit: COMPACT_STEP })];
    this.removeKeys(keys);
    if (keys.length < COMPACT_STEP) {
      this.compactTo = 0;
      this.meta.removeSync(COMPACT_TO);
    }
  }

  private appendBatch(batch: Uint8Array): void {
    let first = true;
    forEachInBatch(batch, (index, _term, record) => {
      if (first && index <= this.lastIndex) {
        // A new leader overwrote our uncommitted suffix: drop it before appending.
        this.removeKeys([...this.entries.getKeys({ start: index })]);
      }
      first = false;
      this.entries.putSync(index, Buffer.from(record.buffer, record.byteOffset, record.byteLength));
      this.lastIndex = index;
    });
  }

  private removeKeys(keys: number[]): void {
    for (const key of keys) this.entries.removeSync(key);
    if (keys.length > 0 && keys[keys.length - 1] === this.lastIndex) this.lastIndex = keys[0]! - 1;
  }

  close(): Promise<void> {
    return this.env.close();
  }
}
