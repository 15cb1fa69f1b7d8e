// mvccpb.KeyValue in protobuf wire format, byte for byte as etcd (gogo) marshals it: fields in
// number order, zero/empty fields omitted. This is the value stored under each revision key, so
// hashKV sees the same bytes etcd hashes.
//   1 key bytes | 2 create_revision int64 | 3 mod_revision int64 | 4 version int64 | 5 value bytes | 6 lease int64
import type { KeyValue } from './types.js';

const TAG_KEY = 0x0a;
const TAG_CREATE = 0x10;
const TAG_MOD = 0x18;
const TAG_VERSION = 0x20;
const TAG_VALUE = 0x2a;
const TAG_LEASE = 0x30;

/** Shared empty bytes (a zero-length Buffer cannot be mutated). */
export const EMPTY_BYTES = Buffer.alloc(0);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n > 0x7fffffff) {
    buf[pos++] = (n & 0x7f) | 0x80; // & keeps the low 32 bits, enough for 7
    n = Math.floor(n / 128);
  }
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** An int64 as protobuf encodes it: two's complement, so negatives take 10 bytes. */
function leaseSize(u: bigint): number {
  if (u <= MAX_SAFE) return varintSize(Number(u));
  let size = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    size++;
  }
  return size;
}

function writeLease(buf: Buffer, pos: number, u: bigint): number {
  if (u <= MAX_SAFE) return writeVarint(buf, pos, Number(u));
  while (u >= 0x80n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  return pos;
}

/**
 * mvccpb.KeyValue bytes for a put, in a buffer of their own: an asynchronous LMDB put reads the value
 * on lmdb-js's write thread, after the call returns, and the write buffer keeps it for reads until then.
 */
export function encodePut(key: Buffer, createRevision: number, modRevision: number, version: number, value: Buffer, lease: bigint): Buffer {
  const u = BigInt.asUintN(64, lease);
  const size =
    1 + varintSize(key.length) + key.length +
    1 + varintSize(createRevision) +
    1 + varintSize(modRevision) +
    1 + varintSize(version) +
    (value.length > 0 ? 1 + varintSize(value.length) + value.length : 0) +
    (u !== 0n ? 1 + leaseSize(u) : 0);
  const buf = Buffer.allocUnsafe(size); // pooled below 4 KiB; every byte is written below
  let pos = 0;
  buf[pos++] = TAG_KEY;
  pos = writeVarint(buf, pos, key.length);
  pos += key.copy(buf, pos);
  buf[pos++] = TAG_CREATE;
  pos = writeVarint(buf, pos, createRevision);
  buf[pos++] = TAG_MOD;
  pos = writeVarint(buf, pos, modRevision);
  buf[pos++] = TAG_VERSION;
  pos = writeVarint(buf, pos, version);
  if (value.length > 0) {
    buf[pos++] = TAG_VALUE;
    pos = writeVarint(buf, pos, value.length);
    pos += value.copy(buf, pos);
  }
  if (u !== 0n) {
    buf[pos++] = TAG_LEASE;
    pos = writeLease(buf, pos, u);
  }
  if (pos !== size) throw new Error(`mvcc: KeyValue encoded to ${pos} bytes, sized ${size}`);
  return buf;
}

/** etcd's tombstone value: a KeyValue holding only the key (given as a latin1 string); a buffer of its own. */
export function encodeTombstone(key: string): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(key.length) + key.length);
  let pos = 0;
  buf[pos++] = TAG_KEY;
  pos = writeVarint(buf, pos, key.length);
  buf.write(key, pos, 'latin1');
  return buf;
}

// Decoder position, module state: decoding is synchronous and never re-entered.
let at = 0;

function readVarint(buf: Uint8Array): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const b = buf[at++];
    if (b === undefined) throw new Error('mvcc: truncated KeyValue');
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
}

function readInt64(buf: Uint8Array): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[at++];
    if (b === undefined) throw new Error('mvcc: truncated KeyValue');
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, result);
    shift += 7n;
  }
}

/** Decodes a stored KeyValue. key and value are views into `buf`, which the result then owns. */
export function decodeKeyValue(buf: Buffer): KeyValue {
  const kv: KeyValue = { key: EMPTY_BYTES, createRevision: 0, modRevision: 0, version: 0, value: EMPTY_BYTES, lease: 0n };
  at = 0;
  while (at < buf.length) {
    const tag = buf[at++];
    switch (tag) {
      case TAG_KEY: {
        const len = readVarint(buf);
        kv.key = buf.subarray(at, at + len);
        at += len;
        break;
      }
      case TAG_CREATE:
        kv.createRevision = readVarint(buf);
        break;
      case TAG_MOD:
        kv.modRevision = readVarint(buf);
        break;
      case TAG_VERSION:
        kv.version = readVarint(buf);
        break;
      case TAG_VALUE: {
        const len = readVarint(buf);
        kv.value = buf.subarray(at, at + len);
        at += len;
        break;
      }
      case TAG_LEASE:
        kv.lease = readInt64(buf);
        break;
      default:
        throw new Error(`mvcc: unexpected field tag ${tag} in stored KeyValue`);
    }
  }
  if (at !== buf.length) throw new Error('mvcc: truncated KeyValue');
  return kv;
}
