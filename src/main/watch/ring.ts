// A bounded ring of variable-size records in one SharedArrayBuffer: one writer (the main thread,
// publishing each revision's events), any number of readers (the watch workers). The writer never
// waits: when it needs room it drops the oldest records, and a reader that had not read them yet
// finds out (it was lapped) by their sequence numbers.
//
// Layout (byte offsets; every number little-endian, as Int32Array/Float64Array views see it):
//
//   0                 control, 8 × int32:
//                       [0] HEAD    low 32 bits of the sequence number of the next record to publish
//                       [1] TAIL    low 32 bits of the oldest sequence number whose record is intact
//                       [2] NOTIFY  bumped after publishing; readers wait on it (Atomics.waitAsync)
//                       [3] SLOTS   slot count (a power of two)   [4] DATA_BYTES   [5..7] unused
//   32                slot table, SLOTS × 4 int32: seq (low 32 bits) | offset | length | kind
//   32 + 16·SLOTS     slot revisions, SLOTS × float64
//   32 + 24·SLOTS     data: DATA_BYTES of record bytes
//
// Record `seq` lives in slot seq & (SLOTS - 1); its bytes are contiguous at [offset, offset + length)
// of the data area. The records [TAIL, HEAD) are intact and lie in sequence order around the data
// area, ending where the writer writes next. Sequence numbers grow without bound; the ring stores
// their low 32 bits and a reader rebuilds the full number from one it knows (its own cursor).
//
// Publishing: the writer makes room (advancing TAIL past every record the new one overwrites, and
// past the record whose slot it reuses) and stores TAIL before it writes a byte, then writes the
// record and its slot, then stores HEAD (Atomics.store: the record is visible to any reader that
// loads the new HEAD). Reading: a reader copies a record out and then loads TAIL; if TAIL has moved
// past the record, the copy may be torn and is discarded (lapped). The final check relies on the
// copy's loads not being satisfied after the Atomics.load of TAIL: guaranteed on x86-64 (TSO, which
// V8 targets with plain loads and a sequentially consistent load); on arm64 V8's load-acquire does not
// order earlier plain loads, so a torn read is possible there in theory when the writer laps the
// reader during the copy of that very record.

const HEAD = 0;
const TAIL = 1;
const NOTIFY = 2;
const SLOTS = 3;
const DATA_BYTES = 4;
const CONTROL_BYTES = 32;

const SEQ = 0;
const OFFSET = 1;
const LENGTH = 2;
const KIND = 3;

/** Atomics.waitAsync (Node 16+; TypeScript has it from lib es2024). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** The full sequence number whose low 32 bits are `low`, nearest to `near` (within 2^31). */
export function fullSeq(low: number, near: number): number {
  return near + ((low - (near | 0)) | 0);
}

interface Views {
  control: Int32Array;
  slots: Int32Array;
  revisions: Float64Array;
  data: Uint8Array;
  mask: number;
  dataBytes: number;
}

function views(sab: SharedArrayBuffer): Views {
  const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  const slotCount = control[SLOTS]!;
  const dataBytes = control[DATA_BYTES]!;
  return {
    control,
    slots: new Int32Array(sab, CONTROL_BYTES, slotCount * 4),
    revisions: new Float64Array(sab, CONTROL_BYTES + 16 * slotCount, slotCount),
    data: new Uint8Array(sab, CONTROL_BYTES + 24 * slotCount, dataBytes),
    mask: slotCount - 1,
    dataBytes,
  };
}

/** Allocates a ring: `slots` records at most (a power of two), `dataBytes` of record bytes. */
export function createRing(slots: number, dataBytes: number): SharedArrayBuffer {
  if (slots < 2 || (slots & (slots - 1)) !== 0) throw new Error(`ring: slot count ${slots} is not a power of two`);
  const sab = new SharedArrayBuffer(CONTROL_BYTES + 24 * slots + dataBytes);
  const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  control[SLOTS] = slots;
  control[DATA_BYTES] = dataBytes;
  return sab;
}

export class RingWriter {
  private readonly v: Views;
  private head = 0;
  private tail = 0;
  /** Where the next record's bytes go. */
  private pos = 0;
  private reserved = -1;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.v = views(buffer);
    this.head = this.v.control[HEAD]!;
    this.tail = this.v.control[TAIL]!;
  }

  /** The data area; write a reserved record at data[offset, offset + length). */
  get data(): Uint8Array {
    return this.v.data;
  }

  /** Sequence number of the next record. */
  get nextSeq(): number {
    return this.head;
  }

  /** The largest record the ring takes (a quarter of its data, so a few always fit). */
  get maxRecordBytes(): number {
    return this.v.dataBytes >>> 2;
  }

  /** Makes room for a record of `length` bytes, dropping the oldest records as needed; returns its data offset. */
  reserve(length: number): number {
    const { slots, mask, dataBytes } = this.v;
    if (length <= 0 || length > this.maxRecordBytes) throw new Error(`ring: record of ${length} bytes (at most ${this.maxRecordBytes})`);
    let pos = this.pos;
    if (pos + length > dataBytes) {
      // The end of the data area is skipped: the records there are the oldest ones.
      while (this.tail < this.head && slots[(this.tail & mask) * 4 + OFFSET]! >= pos) this.tail++;
      pos = 0;
    }
    while (this.tail < this.head) {
      const offset = slots[(this.tail & mask) * 4 + OFFSET]!;
      if (offset < pos || offset >= pos + length) break;
      this.tail++;
    }
    if (this.head - this.tail > mask) this.tail = this.head - mask;
    Atomics.store(this.v.control, TAIL, this.tail | 0);
    this.pos = pos;
    this.reserved = length;
    return pos;
  }

  /** Publishes the record written at the reserved offset. */
  publish(revision: number, kind: number): number {
    if (this.reserved < 0) throw new Error('ring: publish without reserve');
    const seq = this.head;
    const at = (seq & this.v.mask) * 4;
    const slots = this.v.slots;
    slots[at + SEQ] = seq | 0;
    slots[at + OFFSET] = this.pos;
    slots[at + LENGTH] = this.reserved;
    slots[at + KIND] = kind;
    this.v.revisions[seq & this.v.mask] = revision;
    this.pos += this.reserved;
    this.reserved = -1;
    this.head = seq + 1;
    Atomics.store(this.v.control, HEAD, this.head | 0);
    return seq;
  }

  /** Wakes the readers waiting for records. */
  notify(): void {
    Atomics.add(this.v.control, NOTIFY, 1);
    Atomics.notify(this.v.control, NOTIFY);
  }
}

/** One record copied out of the ring. */
export interface RingRecord {
  readonly seq: number;
  readonly revision: number;
  readonly kind: number;
  /** The record's bytes, copied: the reader owns them. */
  readonly bytes: Buffer;
}

export class RingReader {
  private readonly v: Views;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.v = views(buffer);
  }

  /** The next sequence number the writer will publish (full, given a known one within 2^31). */
  head(near: number): number {
    return fullSeq(Atomics.load(this.v.control, HEAD), near);
  }

  /** The oldest sequence number still intact. */
  tail(near: number): number {
    return fullSeq(Atomics.load(this.v.control, TAIL), near);
  }

  /** Copies record `seq` out; undefined if it was overwritten (the reader was lapped) or not published yet. */
  read(seq: number): RingRecord | undefined {
    if (!this.published(seq)) return undefined;
    const at = (seq & this.v.mask) * 4;
    const slots = this.v.slots;
    const offset = slots[at + OFFSET]!;
    const length = slots[at + LENGTH]!;
    const kind = slots[at + KIND]!;
    const revision = this.v.revisions[seq & this.v.mask]!;
    const valid = slots[at + SEQ] === (seq | 0) && offset >= 0 && length > 0 && offset + length <= this.v.dataBytes;
    const bytes = valid ? Buffer.from(this.v.data.subarray(offset, offset + length)) : undefined;
    if (!this.intact(seq) || bytes === undefined) return undefined;
    return { seq, revision, kind, bytes };
  }

  /** Record seq's revision without copying it; undefined if overwritten or not published. */
  revisionAt(seq: number): number | undefined {
    if (!this.published(seq)) return undefined;
    const revision = this.v.revisions[seq & this.v.mask]!;
    const ok = this.v.slots[(seq & this.v.mask) * 4 + SEQ] === (seq | 0);
    return ok && this.intact(seq) ? revision : undefined;
  }

  /** The NOTIFY counter, to wait on. */
  notifyCount(): number {
    return Atomics.load(this.v.control, NOTIFY);
  }

  /** Resolves once the writer notifies after `seen` was read (at once if it already did). */
  waitAsync(seen: number): Promise<unknown> {
    const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.v.control, NOTIFY, seen);
    return r.async ? r.value : Promise.resolve();
  }

  private published(seq: number): boolean {
    return seq - this.head(seq) < 0 && !(this.tail(seq) > seq);
  }

  private intact(seq: number): boolean {
    return this.tail(seq) <= seq;
  }
}
