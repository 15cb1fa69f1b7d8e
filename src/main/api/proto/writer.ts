// Protobuf wire-format writer over a slab: messages are encoded one after another into a large
// buffer and handed out as views, so encoding allocates nothing per message but the view.
// A finished view is never written again (the writer only moves forward and replaces a full
// slab with a new one), so it is safe to pass to an asynchronous socket write; it does keep
// its slab alive, so copy it if you store it for long.
//
// Nested messages are written in one pass: one byte is reserved for the length, and in the rare
// case the content needs a longer length varint, it is shifted right once.

import { WireType } from './wire-type.js';

const TWO_POW_32 = 4294967296;

export interface WriterOptions {
  /** Bytes per slab (default 64 KiB). */
  slabSize?: number;
}

export class Writer {
  buf: Buffer;
  pos = 0;
  /** Where the message in progress starts in `buf`. */
  private start = 0;
  private readonly slabSize: number;
  private readonly idCache: [IdSplit, IdSplit] = [{ id: 0n, lo: 0, hi: 0 }, { id: 0n, lo: 0, hi: 0 }];
  private idCacheNext = 0;

  constructor(options: WriterOptions = {}) {
    this.slabSize = options.slabSize ?? 64 * 1024;
    this.buf = Buffer.allocUnsafeSlow(this.slabSize);
  }

  /** Starts a message, leaving `headroom` bytes before it for the caller (e.g. a frame prefix). */
  begin(headroom = 0): void {
    if (this.buf.length > 4 * this.slabSize) this.replaceOversizedSlab();
    this.start = this.pos;
    this.ensure(headroom);
    this.pos += headroom;
  }

  /** Ends the message begun last: its bytes (headroom included) as a view. */
  finish(): Buffer {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    return out;
  }

  /** Makes room for `n` more bytes, moving the message in progress to a new slab if needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(this.slabSize, (used + n) * 2));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  // ---- fields; the plain forms skip proto3 defaults, the *Present forms (for oneof members) do not

  int(field: number, value: number | undefined): void {
    if (value) this.intPresent(field, value);
  }

  intPresent(field: number, value: number): void {
    this.tag(field, WireType.Varint);
    this.varint64(value);
  }

  /** 64-bit IDs as bigint; negative values are written as their two's complement. */
  id(field: number, value: bigint | undefined): void {
    if (value) this.idPresent(field, value);
  }

  idPresent(field: number, value: bigint): void {
    this.tag(field, WireType.Varint);
    // Splitting a bigint allocates; response headers repeat the same two IDs (cluster, member)
    // in every message, so the last two splits are remembered.
    const cache = this.idCache;
    let slot = cache[0].id === value ? cache[0] : cache[1].id === value ? cache[1] : undefined;
    if (slot === undefined) {
      slot = cache[this.idCacheNext];
      this.idCacheNext ^= 1;
      const v = BigInt.asUintN(64, value);
      slot.id = value;
      slot.lo = Number(v & 0xffffffffn);
      slot.hi = Number(v >> 32n);
    }
    this.varintParts(slot.lo, slot.hi);
  }

  bool(field: number, value: boolean | undefined): void {
    if (value) {
      this.tag(field, WireType.Varint);
      this.byte(1);
    }
  }

  bytes(field: number, value: Uint8Array | undefined): void {
    if (value !== undefined && value.length > 0) this.bytesPresent(field, value);
  }

  bytesPresent(field: number, value: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited);
    this.varint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  bytesList(field: number, values: readonly Uint8Array[] | undefined): void {
    if (values !== undefined) for (const v of values) this.bytesPresent(field, v);
  }

  string(field: number, value: string | undefined): void {
    if (value) this.stringPresent(field, value);
  }

  stringPresent(field: number, value: string): void {
    this.tag(field, WireType.LengthDelimited);
    // UTF-8 needs at most 3 bytes per UTF-16 unit: short strings fit a 1-byte length.
    if (value.length * 3 < 128) {
      this.ensure(1 + value.length * 3);
      const n = this.buf.write(value, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(value, 'utf8');
    this.varint32(n);
    this.ensure(n);
    this.buf.write(value, this.pos, n, 'utf8');
    this.pos += n;
  }

  strings(field: number, values: readonly string[] | undefined): void {
    if (values !== undefined) for (const v of values) this.stringPresent(field, v);
  }

  /** A repeated int32/enum field, packed (the proto3 default). */
  packedInts(field: number, values: readonly number[] | undefined): void {
    if (values === undefined || values.length === 0) return;
    const mark = this.beginNested(field);
    for (const v of values) this.varint64(v);
    this.endNested(mark);
  }

  /** A nested message; present (even if empty) whenever `value` is defined. */
  message<T>(field: number, value: T | undefined, encode: (w: Writer, m: T) => void): void {
    if (value === undefined) return;
    const mark = this.beginNested(field);
    encode(this, value);
    this.endNested(mark);
  }

  messages<T>(field: number, values: readonly T[] | undefined, encode: (w: Writer, m: T) => void): void {
    if (values === undefined) return;
    for (let i = 0; i < values.length; i++) {
      const mark = this.beginNested(field);
      encode(this, values[i]!);
      this.endNested(mark);
    }
  }

  // ---- primitives

  tag(field: number, wireType: WireType): void {
    this.varint32((field << 3) | wireType);
  }

  /** Unsigned varint of a value below 2^32. */
  varint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** Varint of an integer number: int32/int64/uint64/enum, negatives as 64-bit two's complement. */
  varint64(value: number): void {
    if (value >= 0 && value < 0x80000000) this.varint32(value);
    else this.varintParts(value >>> 0, Math.floor(value / TWO_POW_32) >>> 0);
  }

  private varintParts(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Writes the tag, reserves a 1-byte length; returns the content offset relative to the message start. */
  private beginNested(field: number): number {
    this.tag(field, WireType.LengthDelimited);
    this.ensure(1);
    this.pos++;
    return this.pos - this.start;
  }

  private endNested(mark: number): void {
    let contentStart = this.start + mark;
    const len = this.pos - contentStart;
    if (len < 0x80) {
      this.buf[contentStart - 1] = len;
      return;
    }
    const extra = varint32Size(len) - 1;
    this.ensure(extra);
    contentStart = this.start + mark;
    this.buf.copyWithin(contentStart + extra, contentStart, this.pos);
    this.pos += extra;
    let at = contentStart - 1;
    let v = len;
    while (v > 0x7f) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
  }

  /** After a very large message, go back to a normal slab instead of keeping the big one. */
  private replaceOversizedSlab(): void {
    this.buf = Buffer.allocUnsafeSlow(this.slabSize);
    this.pos = 0;
    this.start = 0;
  }
}

interface IdSplit {
  id: bigint;
  lo: number;
  hi: number;
}

function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
