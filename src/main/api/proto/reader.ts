// Protobuf wire-format reader. One instance walks one input buffer; decoders call the typed
// read methods with the field's tag, so a known field with the wrong wire type is rejected
// in the same place its value is read.
//
// `bytes` values come back as zero-copy views (Buffer.subarray) of the input. They stay valid
// as long as the caller does not overwrite the input; they also keep the whole input alive,
// so a consumer that stores keys or values for long should copy them.

import { WireType } from './wire-type.js';

/** Malformed protobuf input: the only error a decoder throws. */
export class ProtoDecodeError extends Error {
  constructor(
    message: string,
    /** Byte offset in the input where the problem was found. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ProtoDecodeError';
  }
}

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

const TWO_POW_32 = 4294967296;
/** Nesting bounds: hostile input must not exhaust the stack (a Txn can nest Txns). */
const MAX_MESSAGE_DEPTH = 100;
const MAX_GROUP_DEPTH = 64;

export class Reader {
  buf: Buffer = EMPTY_BYTES;
  pos = 0;
  /** End of the input; nested messages end earlier and are checked by `message`. */
  end = 0;
  // Result of the last multi-byte varint: low and high 32 bits, unsigned.
  private lo = 0;
  private hi = 0;
  private depth = 0;

  reset(buf: Buffer, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.depth = 0;
    return this;
  }

  /** Reads a field tag (field number << 3 | wire type). */
  tag(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        if (b >>> 3 === 0) throw new ProtoDecodeError('field number 0', pos);
        return b;
      }
    }
    this.varint();
    if (this.hi !== 0 || this.lo >>> 3 === 0) throw new ProtoDecodeError('invalid field number', pos);
    return this.lo;
  }

  /** int64/int32/enum as a number (exact while |value| < 2^53); negative values keep their sign. */
  int(tag: number): number {
    this.expect(tag, WireType.Varint);
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    this.varint();
    return (this.hi | 0) * TWO_POW_32 + this.lo;
  }

  /** uint64 as a number (exact below 2^53). */
  uint(tag: number): number {
    this.expect(tag, WireType.Varint);
    this.varint();
    return this.hi * TWO_POW_32 + this.lo;
  }

  /** int32 and enum fields: the low 32 bits, signed, as protobuf's int32 semantics require. */
  int32(tag: number): number {
    this.expect(tag, WireType.Varint);
    this.varint();
    return this.lo | 0;
  }

  uint32(tag: number): number {
    this.expect(tag, WireType.Varint);
    this.varint();
    return this.lo;
  }

  /** int64 as an exact signed bigint (lease IDs). */
  id(tag: number): bigint {
    this.expect(tag, WireType.Varint);
    this.varint();
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** uint64 as an exact unsigned bigint (member and cluster IDs). */
  uid(tag: number): bigint {
    this.expect(tag, WireType.Varint);
    this.varint();
    return this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  bool(tag: number): boolean {
    this.expect(tag, WireType.Varint);
    this.varint();
    return (this.lo | this.hi) !== 0;
  }

  /** A zero-copy view of a `bytes` field. */
  bytes(tag: number): Buffer {
    const end = this.delimited(tag);
    const start = this.pos;
    this.pos = end;
    return start === end ? EMPTY_BYTES : this.buf.subarray(start, end);
  }

  string(tag: number): string {
    const end = this.delimited(tag);
    const start = this.pos;
    this.pos = end;
    return start === end ? '' : this.buf.toString('utf8', start, end);
  }

  /** A nested message, decoded by `decode`, which must consume exactly its bytes. */
  message<T>(tag: number, decode: (r: Reader, end: number) => T): T {
    const end = this.delimited(tag);
    if (++this.depth > MAX_MESSAGE_DEPTH) throw new ProtoDecodeError('messages nested too deeply', this.pos);
    const value = decode(this, end);
    this.depth--;
    if (this.pos !== end) throw new ProtoDecodeError('nested message overruns its length', this.pos);
    return value;
  }

  /** A repeated int32/enum field: accepts the packed and the unpacked encoding. */
  int32s(tag: number, out: number[]): void {
    if ((tag & 7) === WireType.Varint) {
      this.varint();
      out.push(this.lo | 0);
      return;
    }
    const end = this.delimited(tag);
    while (this.pos < end) {
      this.varint();
      out.push(this.lo | 0);
    }
    if (this.pos !== end) throw new ProtoDecodeError('packed field overruns its length', this.pos);
  }

  /** Skips a field this decoder does not know. */
  skip(tag: number): void {
    switch (tag & 7) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.pos = this.delimited(tag);
        return;
      case WireType.StartGroup:
        this.skipGroup(tag);
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new ProtoDecodeError(`invalid wire type ${tag & 7}`, this.pos);
    }
  }

  /** Checks the wire type, reads a length and returns where the value ends. */
  private delimited(tag: number): number {
    this.expect(tag, WireType.LengthDelimited);
    const at = this.pos;
    let len: number;
    if (at < this.end && this.buf[at]! < 0x80) {
      len = this.buf[at]!;
      this.pos = at + 1;
    } else {
      this.varint();
      if (this.hi !== 0) throw new ProtoDecodeError('length too large', at);
      len = this.lo;
    }
    if (len > this.end - this.pos) throw new ProtoDecodeError('length beyond the end of input', at);
    return this.pos + len;
  }

  private expect(tag: number, wireType: WireType): void {
    if ((tag & 7) !== wireType) {
      throw new ProtoDecodeError(`field ${tag >>> 3}: wire type ${tag & 7}, expected ${wireType}`, this.pos);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new ProtoDecodeError('value beyond the end of input', this.pos);
    this.pos += n;
  }

  /** Reads a varint of up to 10 bytes into lo/hi. */
  private varint(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw new ProtoDecodeError('truncated varint', pos);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.set(pos, lo, 0);
        return;
      }
    }
    // The fifth byte straddles the two halves: 4 bits for lo, 3 for hi.
    if (pos >= end) throw new ProtoDecodeError('truncated varint', pos);
    b = buf[pos++]!;
    lo |= (b & 0x7f) << 28;
    hi = (b & 0x7f) >>> 4;
    if (b < 0x80) {
      this.set(pos, lo, hi);
      return;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= end) throw new ProtoDecodeError('truncated varint', pos);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.set(pos, lo, hi);
        return;
      }
    }
    throw new ProtoDecodeError('varint longer than 10 bytes', pos);
  }

  private set(pos: number, lo: number, hi: number): void {
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** Skips a group iteratively, matching start and end group field numbers. */
  private skipGroup(startTag: number): void {
    const open = [startTag >>> 3];
    while (open.length > 0) {
      const at = this.pos;
      const tag = this.tag();
      const wireType = tag & 7;
      if (wireType === WireType.EndGroup) {
        if (open.pop() !== tag >>> 3) throw new ProtoDecodeError('mismatched end group', at);
      } else if (wireType === WireType.StartGroup) {
        if (open.length >= MAX_GROUP_DEPTH) throw new ProtoDecodeError('groups nested too deeply', at);
        open.push(tag >>> 3);
      } else {
        this.skip(tag);
      }
    }
  }
}
