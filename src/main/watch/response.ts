// etcdserverpb.WatchResponse bytes, built from parts encoded once and shared by every watcher that
// gets them: the header of a revision, each event (with or without its prev_kv). Fields in number
// order, zero values left out, as etcd (gogo) marshals them:
//   1 header | 2 watch_id | 3 created | 4 canceled | 5 compact_revision | 6 cancel_reason | 7 fragment | 11 events
// The bytes go into an OutputArena: one buffer per batch holding, per response, the stream it is for.
import { encode } from '../api/proto/codec.js';
import { ResponseHeaderCodec } from '../api/proto/header.js';
import { EventType } from '../../storage/mvcc/events.js';

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

/**
 * Responses for many streams in one buffer, handed to the main thread at once:
 *   per response: u32 stream id | u32 length | WatchResponse bytes   (little-endian)
 */
export class OutputArena {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes so far, as a transferable buffer of their own; the arena starts over. */
  take(): ArrayBuffer {
    const out = this.buf.buffer.slice(0, this.pos) as ArrayBuffer;
    this.pos = 0;
    if (this.buf.length > 16 * this.initialBytes) this.grow(0, this.initialBytes);
    return out;
  }

  /** An events response: header, watch_id, fragment, events; returns the bytes written. */
  events(stream: number, header: Uint8Array, watchId: number, events: readonly Uint8Array[], from: number, to: number, fragment: boolean): number {
    let size = header.length + (watchId !== 0 ? 1 + varintBytes(watchId) : 0) + (fragment ? 2 : 0);
    for (let i = from; i < to; i++) size += events[i]!.length;
    let at = this.begin(stream, size, header, watchId);
    const buf = this.buf;
    if (fragment) {
      buf[at++] = TAG_FRAGMENT;
      buf[at++] = 1;
    }
    for (let i = from; i < to; i++) {
      buf.set(events[i]!, at);
      at += events[i]!.length;
    }
    this.pos = at;
    return size + 8;
  }

  /** A response without events: progress (canceled false), cancel, or compaction (compactRevision set). */
  control(stream: number, header: Uint8Array, watchId: number, canceled: boolean, compactRevision = 0): number {
    const size =
      header.length +
      (watchId !== 0 ? 1 + varintBytes(watchId) : 0) +
      (canceled ? 2 : 0) +
      (compactRevision !== 0 ? 1 + varintBytes(compactRevision) : 0);
    let at = this.begin(stream, size, header, watchId);
    const buf = this.buf;
    if (canceled) {
      buf[at++] = TAG_CANCELED;
      buf[at++] = 1;
    }
    if (compactRevision !== 0) {
      buf[at++] = TAG_COMPACT_REVISION;
      at = writeVarint(buf, at, compactRevision);
    }
    this.pos = at;
    return size + 8;
  }

  /** Starts a response of `size` bytes: the arena's prefix, then the fields every response begins with; returns where to go on. */
  private begin(stream: number, size: number, header: Uint8Array, watchId: number): number {
    if (this.pos + 8 + size > this.buf.length) this.grow(this.pos, Math.max(this.buf.length * 2, this.pos + 8 + size));
    this.view.setUint32(this.pos, stream, true);
    this.view.setUint32(this.pos + 4, size, true);
    const buf = this.buf;
    let at = this.pos + 8;
    buf.set(header, at);
    at += header.length;
    if (watchId !== 0) {
      buf[at++] = TAG_WATCH_ID;
      at = writeVarint(buf, at, watchId);
    }
    return at;
  }

  private grow(keep: number, bytes: number): void {
    const next = new Uint8Array(bytes);
    next.set(this.buf.subarray(0, keep));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Walks the responses of an arena's buffer (on the main thread). */
export function forEachResponse(data: ArrayBuffer, fn: (stream: number, response: Buffer) => void): void {
  const view = new DataView(data);
  const bytes = Buffer.from(data);
  let at = 0;
  while (at < data.byteLength) {
    const stream = view.getUint32(at, true);
    const size = view.getUint32(at + 4, true);
    fn(stream, bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
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
