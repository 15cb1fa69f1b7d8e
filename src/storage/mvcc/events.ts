// What the store tells watchers: the events of each write txn (etcd's mvccpb.Event), as a change
// feed (one Change per new revision, synchronously at the end of the write) and as a history scan.
//
// Events carry the KeyValue as etcd sends it in a watch event, already in protobuf wire format:
// for a put the stored KeyValue itself; for a delete etcd's tombstone with the mod revision patched
// in (key + mod_revision), as etcd's watchable store does.
import { indexKey, indexRangeEnd, type RangeEnd } from './tree-index.js';

/** mvccpb.Event.EventType. */
export const enum EventType {
  Put = 0,
  Delete = 1,
}

export interface MvccEvent {
  readonly type: EventType;
  readonly revision: number;
  readonly sub: number;
  /** mvccpb.KeyValue bytes, as etcd sends them in a watch event. The feed's are only valid during the call. */
  readonly kv: Buffer;
  /** The key: a view of `kv`. */
  readonly key: Buffer;
}

/** One write txn's events: every change at one revision, in sub-revision order. */
export interface Change {
  readonly revision: number;
  readonly events: readonly MvccEvent[];
}

/**
 * Called synchronously at the end of every write call that created a revision. It must not write
 * to the store, and must not throw (the write has happened; an exception would reach the caller).
 */
export type ChangeListener = (change: Change) => void;

/** A key range with etcd's request conventions: rangeEnd absent/empty = `key` alone, one 0x00 byte = every key >= `key`. */
export interface KeyRange {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer | undefined;
}

/** Bounds on one history scan; each stops the scan at a revision boundary, after at least one revision. */
export interface HistoryLimits {
  /** Revisions with matching events to return (etcd's watchBatchMaxRevs is 1000). */
  readonly maxRevisions?: number;
  /** Bytes of KeyValues to return. */
  readonly maxBytes?: number;
  /** Revisions to look at, matching or not (bounds the time one scan takes). */
  readonly maxScanned?: number;
}

export interface HistoryBatch {
  /** Matching events with revision >= the scan's start, in (revision, sub) order; they own their bytes. */
  readonly events: MvccEvent[];
  /**
   * Every revision up to this one was scanned: the store's current revision, or less when a limit
   * stopped the scan (continue from through + 1).
   */
  readonly through: number;
}

const TAG_KEY = 0x0a;
const TAG_MOD = 0x18;

/** The key field of KeyValue bytes (always first, as etcd and kv-codec.ts write it), as a view. */
export function keyOfKv(kv: Buffer): Buffer {
  if (kv[0] !== TAG_KEY) throw new Error('mvcc: KeyValue without a leading key field');
  let len = 0;
  let shift = 0;
  let at = 1;
  for (;;) {
    const b = kv[at++]!;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return kv.subarray(at, at + len);
}

/** A stored tombstone holds the key alone; a put always carries create and mod revisions after it. */
export function isTombstoneValue(stored: Buffer, key: Buffer): boolean {
  return key.byteOffset - stored.byteOffset + key.length === stored.length;
}

/** etcd's delete event KeyValue: the tombstone (key only) with mod_revision set, in a buffer of its own. */
export function deleteEventKv(stored: Buffer, revision: number): Buffer {
  let n = revision;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  const out = Buffer.allocUnsafe(stored.length + 1 + size);
  stored.copy(out, 0);
  let at = stored.length;
  out[at++] = TAG_MOD;
  n = revision;
  while (n >= 0x80) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at] = n;
  return out;
}

/** The event of the KeyValue bytes stored under (revision, sub). A put's event shares `stored`. */
export function eventOf(stored: Buffer, revision: number, sub: number): MvccEvent {
  const key = keyOfKv(stored);
  if (!isTombstoneValue(stored, key)) return { type: EventType.Put, revision, sub, kv: stored, key };
  const kv = deleteEventKv(stored, revision);
  const keyAt = key.byteOffset - stored.byteOffset;
  return { type: EventType.Delete, revision, sub, kv, key: kv.subarray(keyAt, keyAt + key.length) };
}

/** A KeyRange as the index sees it (latin1 strings). */
export interface IndexRange {
  readonly key: string;
  readonly end: RangeEnd;
}

export function toIndexRange(r: KeyRange): IndexRange {
  return { key: indexKey(r.key), end: indexRangeEnd(r.rangeEnd) };
}

export function inIndexRange(r: IndexRange, key: string): boolean {
  if (r.end === undefined) return key === r.key;
  return key >= r.key && (r.end === '' || key < r.end);
}
