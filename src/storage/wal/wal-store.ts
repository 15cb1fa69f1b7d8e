// The Raft log on LMDB: entries keyed by index, plus the hard state and the last snapshot's
// metadata. Every write is one transaction, fsynced before write() returns.
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
const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export class WalStore {
  private constructor(
    private readonly env: RootDatabase,
    private readonly entries: Database<Buffer, number>,
    private readonly meta: Database<Buffer, string>,
    private lastIndex: number,
  ) {}

  static open(path: string): WalStore {
    // overlappingSync off: a synchronous commit returns only after the data is on disk.
    const env = open({ path, overlappingSync: false, maxDbs: 4 });
    const entries = env.openDB<Buffer, number>({ name: 'entries', encoding: 'binary' });
    const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    let lastIndex = 0;
    for (const key of entries.getKeys({ reverse: true, limit: 1 })) lastIndex = key;
    return new WalStore(env, entries, meta, lastIndex);
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

  /** Applies writes in order in one transaction, fsynced before return (group commit); returns the last index. */
  write(writes: readonly WalWrite[]): number {
    // Only the last hard state of the group is written: the transaction commits them all at once.
    let hardState: HardState | undefined;
    this.env.transactionSync(() => {
      for (const w of writes) {
        if (w.hardState !== undefined) hardState = w.hardState;
        this.writeOne(w);
      }
      if (hardState !== undefined) this.meta.putSync(HARD_STATE, pack(hardState));
    });
    return this.lastIndex;
  }

  private writeOne(w: WalWrite): void {
    if (w.compactTo !== undefined) {
      this.removeKeys([...this.entries.getKeys({ end: w.compactTo + 1 })]);
    }
    if (w.snapshot !== undefined) this.meta.putSync(SNAPSHOT, pack(w.snapshot));
    if (w.batch !== undefined) this.appendBatch(w.batch);
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
