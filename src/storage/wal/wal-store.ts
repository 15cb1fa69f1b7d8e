// The Raft log as append-only segment files (NNNNNNNNNNNNNNNN.tlog, numbered in order): each
// write() appends all its records with one write and one fdatasync, so a group commit costs one
// flush (LMDB needed two: data pages, then its meta page). Records are entry batches (record.ts's
// layout) and metadata (hard state, snapshot, compaction point), framed with checksums (frame.ts).
//
// Reading replays every segment in order. A crash can tear only the last write, at the end of the
// last segment: open() cuts it off. A bad frame anywhere else is corruption and stops the member.
//
// A segment that grows past segmentBytes is closed and the next one begins by restating the hard
// state and snapshot, so once a compaction covers every entry of the oldest segments they are
// deleted and what remains still replays to the same log.
import fs from 'node:fs';
import path from 'node:path';
import type { Entry, HardState, SnapshotMeta } from '../../main/raft/types.js';
import { NONE } from '../../main/raft/types.js';
import { pack, unpack } from '../msgpack.js';
import { frameSize, scanFrames, writeFrame } from './frame.js';
import { decodeRecord, forEachInBatch } from './record.js';

export interface WalState {
  hardState: HardState;
  snapshot: SnapshotMeta | undefined;
  /** Entries after the snapshot, in index order. */
  entries: Entry[];
}

/** One durable step: all parts are optional and become durable together. */
export interface WalWrite {
  hardState?: HardState;
  snapshot?: SnapshotMeta;
  /** encodeBatch() output; entries replace any existing suffix from their first index. */
  batch?: Uint8Array;
  /** Drop entries with index <= compactTo (covered by a snapshot; a snapshot installed from the leader drops the whole log). */
  compactTo?: number;
}

export interface WalOptions {
  /** Size past which the next write starts a new segment (etcd's WAL segments are 64 MB too). */
  segmentBytes?: number;
}

const SUFFIX = '.tlog';
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

const enum RecordKind {
  /** An encodeBatch() buffer. */
  Entries = 1,
  /** A packed MetaRecord. */
  Meta = 2,
}

interface MetaRecord {
  compactTo?: number;
  snapshot?: SnapshotMeta;
  hardState?: HardState;
}

interface Segment {
  file: string;
  seq: number;
  /** Highest entry index written into this segment (0: none). */
  maxIndex: number;
}

export class WalCorruptError extends Error {
  override name = 'WalCorruptError';
}

export class WalStore {
  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    /** Oldest first; the last one is being appended to. */
    private readonly segments: Segment[],
    private fd: number,
    private size: number,
    private hardState: HardState,
    private snapshot: SnapshotMeta | undefined,
  ) {}

  static open(dir: string, options: WalOptions = {}): WalStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const replayed = replay(dir);
    const segments = replayed.segments;
    let fd: number;
    let size: number;
    const last = segments[segments.length - 1];
    if (last === undefined) {
      const first: Segment = { file: segmentPath(dir, 1), seq: 1, maxIndex: 0 };
      fd = createSegment(first.file, dir);
      segments.push(first);
      size = 0;
    } else {
      fd = fs.openSync(last.file, 'r+');
      size = replayed.lastSegmentEnd;
      if (fs.fstatSync(fd).size > size) {
        // The tail of a write the crash tore: never acknowledged, so cut it off.
        fs.ftruncateSync(fd, size);
        fs.fsyncSync(fd);
      }
    }
    return new WalStore(
      dir,
      options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      segments,
      fd,
      size,
      replayed.state.hardState,
      replayed.state.snapshot,
    );
  }

  read(): WalState {
    return replay(this.dir).state;
  }

  /** Appends the writes in order, durable (fdatasync) before return: one group commit. */
  write(writes: readonly WalWrite[]): void {
    const frames: { kind: RecordKind; body: Uint8Array }[] = [];
    // Only the group's last hard state is recorded: the writes become durable all at once.
    let hardState: HardState | undefined;
    let compactTo: number | undefined;
    let maxIndex = 0;
    for (const w of writes) {
      if (w.hardState !== undefined) hardState = w.hardState;
      if (w.compactTo !== undefined || w.snapshot !== undefined) {
        frames.push(metaFrame({ compactTo: w.compactTo, snapshot: w.snapshot }));
        if (w.compactTo !== undefined) compactTo = Math.max(compactTo ?? 0, w.compactTo);
        if (w.snapshot !== undefined) this.snapshot = w.snapshot;
      }
      if (w.batch !== undefined) {
        frames.push({ kind: RecordKind.Entries, body: w.batch });
        forEachInBatch(w.batch, (index) => (maxIndex = Math.max(maxIndex, index)));
      }
    }
    if (hardState !== undefined) frames.push(metaFrame({ hardState }));
    if (frames.length === 0) return;

    let bytes = 0;
    for (const f of frames) bytes += frameSize(f.body);
    if (this.size > 0 && this.size + bytes > this.segmentBytes) {
      // The header restates what this write's records come after (they may change it).
      const header = metaFrame({ hardState: this.hardState, snapshot: this.snapshot });
      frames.unshift(header);
      bytes += frameSize(header.body);
      this.startSegment();
    }
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const f of frames) at = writeFrame(out, at, f.kind, f.body);
    fs.writeSync(this.fd, out, 0, bytes, this.size);
    fs.fdatasyncSync(this.fd);
    this.size += bytes;
    if (hardState !== undefined) this.hardState = hardState;
    const current = this.segments[this.segments.length - 1]!;
    current.maxIndex = Math.max(current.maxIndex, maxIndex);
    if (compactTo !== undefined) this.dropSegmentsThrough(compactTo);
  }

  private startSegment(): void {
    fs.closeSync(this.fd);
    const seq = this.segments[this.segments.length - 1]!.seq + 1;
    const segment: Segment = { file: segmentPath(this.dir, seq), seq, maxIndex: 0 };
    this.fd = createSegment(segment.file, this.dir);
    this.segments.push(segment);
    this.size = 0;
  }

  /** Deletes the oldest segments (never the current one) whose entries all lie at or below compactTo. */
  private dropSegmentsThrough(compactTo: number): void {
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= compactTo) {
      fs.unlinkSync(this.segments.shift()!.file);
    }
  }

  close(): Promise<void> {
    fs.closeSync(this.fd);
    return Promise.resolve();
  }
}

function metaFrame(record: MetaRecord): { kind: RecordKind; body: Uint8Array } {
  return { kind: RecordKind.Meta, body: pack(record) };
}

function segmentPath(dir: string, seq: number): string {
  return path.join(dir, `${seq.toString(16).padStart(16, '0')}${SUFFIX}`);
}

/** Creates an empty segment file and makes its name durable in the directory. */
function createSegment(file: string, dir: string): number {
  const fd = fs.openSync(file, 'wx', 0o600);
  const dirFd = fs.openSync(dir, 'r');
  fs.fsyncSync(dirFd);
  fs.closeSync(dirFd);
  return fd;
}

interface Replayed {
  state: WalState;
  segments: Segment[];
  /** Where the last segment's intact records end. */
  lastSegmentEnd: number;
}

function replay(dir: string): Replayed {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort();
  let hardState = EMPTY_HARD_STATE;
  let snapshot: SnapshotMeta | undefined;
  let log: Entry[] = [];
  const segments: Segment[] = [];
  let lastSegmentEnd = 0;
  names.forEach((name, i) => {
    const file = path.join(dir, name);
    const bytes = fs.readFileSync(file);
    const { frames, end } = scanFrames(bytes);
    if (end < bytes.length && i < names.length - 1) {
      throw new WalCorruptError(`WAL segment ${file} is corrupt at byte ${end} and later segments follow it`);
    }
    const segment: Segment = { file, seq: parseInt(name, 16), maxIndex: 0 };
    for (const { kind, body } of frames) {
      if (kind === RecordKind.Entries) {
        log = appendBatch(log, body, file);
        segment.maxIndex = Math.max(segment.maxIndex, log[log.length - 1]?.index ?? 0);
      } else if (kind === RecordKind.Meta) {
        const meta = unpack<MetaRecord>(body);
        if (meta.compactTo !== undefined) log = log.filter((e) => e.index > meta.compactTo!);
        if (meta.snapshot !== undefined) snapshot = meta.snapshot;
        if (meta.hardState !== undefined) hardState = meta.hardState;
      } else {
        throw new WalCorruptError(`WAL segment ${file} holds a record of unknown kind ${kind}`);
      }
    }
    segments.push(segment);
    lastSegmentEnd = end;
  });
  const after = snapshot?.index ?? 0;
  const entries = log.filter((e) => e.index > after);
  if (entries.length > 0 && entries[0]!.index !== after + 1) {
    throw new WalCorruptError(`WAL in ${dir} has no entries ${after + 1}..${entries[0]!.index - 1} after its snapshot`);
  }
  return { state: { hardState, snapshot, entries }, segments, lastSegmentEnd };
}

/** The log with a batch's entries appended; a batch starting at or below the last index replaces that suffix (a new leader's entries). */
function appendBatch(log: Entry[], batch: Uint8Array, file: string): Entry[] {
  let out = log;
  let first = true;
  forEachInBatch(batch, (index, _term, record) => {
    if (first && out.length > 0) {
      const start = out[0]!.index;
      if (index > out[out.length - 1]!.index + 1) {
        throw new WalCorruptError(`WAL segment ${file} appends entry ${index} after ${out[out.length - 1]!.index}`);
      }
      if (index <= out[out.length - 1]!.index) out = out.slice(0, Math.max(0, index - start));
    }
    first = false;
    out.push(decodeRecord(index, record));
  });
  return out;
}
