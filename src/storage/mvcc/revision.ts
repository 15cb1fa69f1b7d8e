// etcd's revision key, the LMDB key of every stored KeyValue: 8-byte big-endian main revision,
// '_', 8-byte big-endian sub revision, and a trailing 't' for a tombstone (17 or 18 bytes).
// Byte order equals (main, sub) order, so the revision db iterates in revision order.

export const REV_BYTES = 17;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'
const TWO_32 = 0x1_0000_0000;

function writeUint64BE(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_32), offset);
  buf.writeUInt32BE(n >>> 0, offset + 4);
}

function readUint64BE(buf: Uint8Array, offset: number): number {
  const hi = ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
  const lo = ((buf[offset + 4]! << 24) | (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

/** A fresh revision key. */
export function revKey(main: number, sub: number, tombstone: boolean): Buffer {
  const buf = Buffer.allocUnsafe(tombstone ? REV_BYTES + 1 : REV_BYTES);
  writeUint64BE(buf, 0, main);
  buf[8] = SEPARATOR;
  writeUint64BE(buf, 9, sub);
  if (tombstone) buf[REV_BYTES] = TOMBSTONE_MARK;
  return buf;
}

/**
 * Revision keys built in place, for hot paths: `plain` and `tombstone` are views of one buffer,
 * valid until the next call to set(). lmdb-js copies a key during the call it is passed to.
 */
export class RevKeyScratch {
  private readonly buf = Buffer.alloc(REV_BYTES + 1);
  readonly plain = this.buf.subarray(0, REV_BYTES);
  readonly tombstone = this.buf;

  constructor() {
    this.buf[8] = SEPARATOR;
    this.buf[REV_BYTES] = TOMBSTONE_MARK;
  }

  set(main: number, sub: number): this {
    writeUint64BE(this.buf, 0, main);
    writeUint64BE(this.buf, 9, sub);
    return this;
  }
}

export function revMain(key: Uint8Array): number {
  return readUint64BE(key, 0);
}

export function revSub(key: Uint8Array): number {
  return readUint64BE(key, 9);
}

export function isTombstoneKey(key: Uint8Array): boolean {
  return key.length === REV_BYTES + 1 && key[REV_BYTES] === TOMBSTONE_MARK;
}
