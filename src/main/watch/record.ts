// The bytes of one revision as the watch threads pass it around: in a ring slot (ring.ts) and, one
// after another, in a history reply. Little-endian throughout.
//
//   0   u8   kind: 0 = events, 1 = gap (revisions up to `revision` are not in the ring: read the history)
//   1   u8   flags: bit 0 = every event carries its prev_kv (the value before this revision, if any)
//   2   u16  0
//   4   u32  event count
//   8   f64  revision
//   16  f64  raft term when published (for response headers)
//   24  per event, in sub-revision order:
//         u8 type (mvccpb.Event.EventType) | u8 has prev_kv | u16 0 | u32 kv length | u32 prev_kv length
//         kv bytes (mvccpb.KeyValue, as etcd sends it) | prev_kv bytes (mvccpb.KeyValue)
import { keyOfKv } from '../../storage/mvcc/events.js';

export const enum RecordKind {
  Events = 0,
  Gap = 1,
}

const FLAG_PREV = 1;
const HEADER_BYTES = 24;
const EVENT_HEADER_BYTES = 12;

/** An event to write: its KeyValue bytes and, when prev_kv is carried, the previous KeyValue's (or undefined: none). */
export interface EventBytes {
  readonly type: number;
  readonly kv: Uint8Array;
  readonly prev?: Uint8Array | undefined;
}

export function recordBytes(events: readonly EventBytes[]): number {
  let size = HEADER_BYTES;
  for (const e of events) size += EVENT_HEADER_BYTES + e.kv.length + (e.prev?.length ?? 0);
  return size;
}

/** Writes a record at out[offset..]; returns the offset after it. */
export function writeRecord(
  out: Uint8Array,
  offset: number,
  kind: RecordKind,
  revision: number,
  term: number,
  withPrev: boolean,
  events: readonly EventBytes[],
): number {
  const view = new DataView(out.buffer, out.byteOffset);
  view.setUint8(offset, kind);
  view.setUint8(offset + 1, withPrev ? FLAG_PREV : 0);
  view.setUint16(offset + 2, 0, true);
  view.setUint32(offset + 4, events.length, true);
  view.setFloat64(offset + 8, revision, true);
  view.setFloat64(offset + 16, term, true);
  let at = offset + HEADER_BYTES;
  for (const e of events) {
    const prev = withPrev ? e.prev : undefined;
    view.setUint8(at, e.type);
    view.setUint8(at + 1, prev !== undefined ? 1 : 0);
    view.setUint16(at + 2, 0, true);
    view.setUint32(at + 4, e.kv.length, true);
    view.setUint32(at + 8, prev?.length ?? 0, true);
    at += EVENT_HEADER_BYTES;
    out.set(e.kv, at);
    at += e.kv.length;
    if (prev !== undefined) {
      out.set(prev, at);
      at += prev.length;
    }
  }
  return at;
}

export interface RecordEvent {
  readonly type: number;
  /** Views of the record's bytes. */
  readonly kv: Buffer;
  readonly key: Buffer;
  /** The key as a latin1 string (one char per byte: string order is byte order). */
  readonly keyString: string;
  readonly prev: Buffer | undefined;
}

export interface RevisionRecord {
  readonly kind: RecordKind;
  readonly revision: number;
  readonly term: number;
  /** Whether the events carry prev_kv (an event's `prev` undefined then means the key had none). */
  readonly withPrev: boolean;
  readonly events: readonly RecordEvent[];
}

/** Reads the record at bytes[offset..]; `next` receives the offset after it. */
export function readRecord(bytes: Buffer, offset = 0, next?: { offset: number }): RevisionRecord {
  const kind = bytes.readUInt8(offset) as RecordKind;
  const withPrev = (bytes.readUInt8(offset + 1) & FLAG_PREV) !== 0;
  const count = bytes.readUInt32LE(offset + 4);
  const revision = bytes.readDoubleLE(offset + 8);
  const term = bytes.readDoubleLE(offset + 16);
  const events: RecordEvent[] = new Array<RecordEvent>(count);
  let at = offset + HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const type = bytes[at]!;
    const hasPrev = bytes[at + 1] === 1;
    const kvLength = bytes.readUInt32LE(at + 4);
    const prevLength = bytes.readUInt32LE(at + 8);
    at += EVENT_HEADER_BYTES;
    const kv = bytes.subarray(at, at + kvLength);
    at += kvLength;
    const prev = hasPrev ? bytes.subarray(at, at + prevLength) : undefined;
    at += prevLength;
    const key = keyOfKv(kv);
    events[i] = { type, kv, key, keyString: key.toString('latin1'), prev };
  }
  if (next !== undefined) next.offset = at;
  return { kind, revision, term, withPrev, events };
}

/** Every record in `bytes` (a history reply), in order. */
export function readRecords(bytes: Buffer): RevisionRecord[] {
  const out: RevisionRecord[] = [];
  const next = { offset: 0 };
  while (next.offset < bytes.length) out.push(readRecord(bytes, next.offset, next));
  return out;
}
