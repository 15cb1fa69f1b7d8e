// etcdserverpb.WatchResponse bytes, built from parts encoded once and shared by every watcher that
// gets them: the header of a revision, each event (with or without its prev_kv). Fields in number
// order, zero values left out, as etcd (gogo) marshals them:
//   1 header | 2 watch_id | 3 created | 4 canceled | 5 compact_revision | 6 cancel_reason | 7 fragment | 11 events
// The bytes go into an OutputArena as gRPC messages, grouped by stream in one buffer per batch.
import { encode } from '../api/proto/codec.js';
import { ResponseHeaderCodec } from '../api/proto/header.js';
import { EventType } from '../../storage/mvcc/events.js';

/** A gRPC message's prefix: compressed flag, u32 big-endian length. */
export const GRPC_PREFIX_BYTES = 5;
const TAG_HEADER = 0x0a;
const TAG_WATCH_ID = 0x10;
const TAG_CANCELED = 0x20;
const TAG_COMPACT_REVISION = 0x28;
const TAG_FRAGMENT = 0x38;
const TAG_EVENTS = 0x5a;
const TAG_EVENT_TYPE = 0x08;
const TAG_EVENT_KV = 0x12;
const TAG_EVENT_PREV_KV = 0x1a;

export function varintBytes(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes a varint (an int64: negatives as 64-bit two's complement); returns the offset after it. */
export function writeVarint(buf: Uint8Array, at: number, n: number): number {
  if (n < 0) {
    let u = BigInt.asUintN(64, BigInt(n));
    while (u >= 0x80n) {
      buf[at++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[at++] = Number(u);
    return at;
  }
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** A length-delimited field: tag, length, bytes. */
function field(tag: number, parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(1 + varintBytes(length) + length);
  out[0] = tag;
  let at = writeVarint(out, 1, length);
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** WatchResponse field 11 for one event: type (if DELETE), kv and, if given, prev_kv. */
export function eventField(type: number, kv: Uint8Array, prev: Uint8Array | undefined): Buffer {
  const parts: Uint8Array[] = [];
  if (type !== EventType.Put) parts.push(Uint8Array.of(TAG_EVENT_TYPE, type));
  parts.push(field(TAG_EVENT_KV, [kv]));
  if (prev !== undefined) parts.push(field(TAG_EVENT_PREV_KV, [prev]));
  return field(TAG_EVENTS, parts);
}

/** The header fields (field 1) for responses of one member, cached for the last revision and term asked. */
export class HeaderCache {
  private revision = -1;
  private term = -1;
  private bytes: Buffer = Buffer.alloc(0);

  constructor(
    private readonly clusterId: bigint,
    private readonly memberId: bigint,
  ) {}

  get(revision: number, term: number): Buffer {
    if (revision !== this.revision || term !== this.term) {
      const header = encode(ResponseHeaderCodec, { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: term });
      this.bytes = field(TAG_HEADER, [header]);
      this.revision = revision;
      this.term = term;
    }
    return this.bytes;
  }
}

/** What OutputArena.take() hands over: pages (transferred) and, per segment, its stream, page, offset and length. */
export interface ArenaOutput {
  readonly pages: ArrayBuffer[];
  /** Flat (stream, page, offset, length) quadruples; a stream's segments in the order of its responses. */
  readonly segments: number[];
}

/** The stretch of a page a stream's next responses go into. */
interface Block {
  buf: Buffer;
  page: number;
  start: number;
  pos: number;
  /** Bytes of the stream's segments closed this turn. */
  closed: number;
}

/** The smallest block, and the most a stream's first block of a turn reserves from what it sent in its previous one. */
const MIN_BLOCK_BYTES = 256;
const MAX_BLOCK_HINT_BYTES = 1024 * 1024;
/** Spare pages kept at most. */
const MAX_SPARE_PAGES = 64;

/**
 * Responses for many streams, handed to the main thread once per turn without being copied again.
 * Each response is written once, already as a gRPC message (flag 0, u32 big-endian length,
 * WatchResponse bytes), into its stream's block: a stretch of a page reserved for that stream, as
 * large as the stream's output of its previous turn, so that a stream's responses of a turn are
 * mostly one segment and the main thread writes them with one write. The pages are transferred.
 * The bytes a response counts for flow control are its gRPC message's (5 + its length).
 */
export class OutputArena {
  private pages: Buffer[] = [];
  private page: Buffer | undefined;
  private pagePos = 0;
  private readonly open = new Map<number, Block>();
  private segments: number[] = [];
  private bytes = 0;
  /** Per stream with output in the previous turn: its bytes then (the size of its first block this turn). */
  private hints = new Map<number, number>();

  /** Pages the main thread has written out and handed back, to be used again. */
  private readonly spares: ArrayBuffer[] = [];

  constructor(private readonly pageBytes = 256 * 1024) {}

  /** A page from take() whose bytes are no longer needed comes back. */
  recycle(page: ArrayBuffer): void {
    if (page.byteLength === this.pageBytes && this.spares.length < MAX_SPARE_PAGES) this.spares.push(page);
  }

  get length(): number {
    return this.bytes;
  }

  /** The responses so far, as pages of their own to transfer; the arena starts over. */
  take(): ArenaOutput {
    const hints = new Map<number, number>();
    for (const [stream, block] of this.open) {
      this.close(stream, block);
      hints.set(stream, block.closed);
    }
    this.hints = hints;
    this.open.clear();
    const out: ArenaOutput = { pages: this.pages.map((p) => p.buffer as ArrayBuffer), segments: this.segments };
    this.pages = [];
    this.page = undefined;
    this.segments = [];
    this.bytes = 0;
    return out;
  }

  /** An events response: header, watch_id, fragment, events; returns its bytes (for flow control). */
  events(stream: number, header: Uint8Array, watchId: number, events: readonly Uint8Array[], from: number, to: number, fragment: boolean): number {
    let size = header.length + (watchId !== 0 ? 1 + varintBytes(watchId) : 0) + (fragment ? 2 : 0);
    for (let i = from; i < to; i++) size += events[i]!.length;
    const block = this.block(stream, GRPC_PREFIX_BYTES + size);
    const buf = block.buf;
    let at = this.begin(block, size, header, watchId);
    if (fragment) {
      buf[at++] = TAG_FRAGMENT;
      buf[at++] = 1;
    }
    for (let i = from; i < to; i++) at = put(buf, at, events[i]!);
    block.pos = at;
    return size + GRPC_PREFIX_BYTES;
  }

  /** A response without events: progress (canceled false), cancel, or compaction (compactRevision set). */
  control(stream: number, header: Uint8Array, watchId: number, canceled: boolean, compactRevision = 0): number {
    const size =
      header.length +
      (watchId !== 0 ? 1 + varintBytes(watchId) : 0) +
      (canceled ? 2 : 0) +
      (compactRevision !== 0 ? 1 + varintBytes(compactRevision) : 0);
    const block = this.block(stream, GRPC_PREFIX_BYTES + size);
    const buf = block.buf;
    let at = this.begin(block, size, header, watchId);
    if (canceled) {
      buf[at++] = TAG_CANCELED;
      buf[at++] = 1;
    }
    if (compactRevision !== 0) {
      buf[at++] = TAG_COMPACT_REVISION;
      at = writeVarint(buf, at, compactRevision);
    }
    block.pos = at;
    return size + GRPC_PREFIX_BYTES;
  }

  /** Starts a response of `size` bytes in `block`: its gRPC prefix, then the fields every response begins with; returns where to go on. */
  private begin(block: Block, size: number, header: Uint8Array, watchId: number): number {
    const buf = block.buf;
    const pos = block.pos;
    this.bytes += GRPC_PREFIX_BYTES + size;
    buf[pos] = 0; // not compressed
    buf.writeUInt32BE(size, pos + 1);
    let at = put(buf, pos + GRPC_PREFIX_BYTES, header);
    if (watchId !== 0) {
      buf[at++] = TAG_WATCH_ID;
      at = writeVarint(buf, at, watchId);
    }
    return at;
  }

  /** The stream's block, with room for `bytes` more. */
  private block(stream: number, bytes: number): Block {
    let block = this.open.get(stream);
    if (block !== undefined && block.pos + bytes <= block.buf.length) return block;
    let capacity: number;
    if (block !== undefined) {
      this.close(stream, block);
      capacity = Math.max(bytes, 2 * (block.buf.length - block.start));
    } else {
      capacity = Math.max(bytes, MIN_BLOCK_BYTES, Math.min(this.hints.get(stream) ?? 0, MAX_BLOCK_HINT_BYTES));
    }
    if (this.page === undefined || this.pagePos + capacity > this.page.length) {
      const spare = capacity <= this.pageBytes ? this.spares.pop() : undefined;
      this.page = spare !== undefined ? Buffer.from(spare) : Buffer.allocUnsafeSlow(Math.max(this.pageBytes, capacity));
      this.pages.push(this.page);
      this.pagePos = 0;
    }
    const start = this.pagePos;
    this.pagePos += capacity;
    // The block's buffer ends where the block does, so a full block shows as pos + bytes > length.
    const buf = this.page.subarray(0, this.pagePos);
    if (block === undefined) {
      block = { buf, page: this.pages.length - 1, start, pos: start, closed: 0 };
      this.open.set(stream, block);
    } else {
      block.buf = buf;
      block.page = this.pages.length - 1;
      block.start = start;
      block.pos = start;
    }
    return block;
  }

  private close(stream: number, block: Block): void {
    if (block.pos === block.start) return;
    this.segments.push(stream, block.page, block.start, block.pos - block.start);
    block.closed += block.pos - block.start;
  }
}

/** Copies `bytes` into `buf` at `at`; returns the offset after them. (A loop beats set() for the few bytes of most fields.) */
function put(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 48) {
    buf.set(bytes, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) buf[at + i] = bytes[i]!;
  return at + n;
}

/** Walks the segments of an OutputArena's output (on the main thread): a stream's gRPC messages, in order. */
export function forEachSegment(output: ArenaOutput, fn: (stream: number, messages: Buffer) => void): void {
  const { pages, segments } = output;
  for (let i = 0; i < segments.length; i += 4) fn(segments[i]!, Buffer.from(pages[segments[i + 1]!]!, segments[i + 2]!, segments[i + 3]!));
}

/** Walks gRPC messages one after another (uncompressed, as OutputArena writes them): each one's WatchResponse bytes. */
export function forEachMessage(messages: Uint8Array, fn: (response: Buffer) => void): void {
  const bytes = Buffer.from(messages.buffer, messages.byteOffset, messages.byteLength);
  let at = 0;
  while (at < bytes.length) {
    const size = bytes.readUInt32BE(at + 1);
    fn(bytes.subarray(at + GRPC_PREFIX_BYTES, at + GRPC_PREFIX_BYTES + size));
    at += GRPC_PREFIX_BYTES + size;
  }
}

/** Walks every response of an OutputArena's output, in order for each stream. */
export function forEachResponse(output: ArenaOutput, fn: (stream: number, response: Buffer) => void): void {
  forEachSegment(output, (stream, messages) => forEachMessage(messages, (response) => fn(stream, response)));
}

/**
 * etcd's sendFragments for a watcher created with fragment: when the response would reach
 * maxBytes and has two events or more, it goes as several, each marked fragment but the last, each
 * with as many events as keep it under maxBytes (at least one). Returns the end index of each piece.
 */
export function fragmentEnds(baseBytes: number, eventBytes: readonly number[], maxBytes: number): number[] {
  let total = baseBytes;
  for (const n of eventBytes) total += n;
  if (total < maxBytes || eventBytes.length < 2) return [eventBytes.length];
  const ends: number[] = [];
  let i = 0;
  while (i < eventBytes.length) {
    let size = baseBytes + 2; // fragment: true
    let count = 0;
    while (i < eventBytes.length) {
      size += eventBytes[i]!;
      count++;
      if (count > 1 && size >= maxBytes) break;
      i++;
    }
    ends.push(i);
  }
  return ends;
}
