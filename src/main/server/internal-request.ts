// What Raft entries carry. A Normal entry holds one client write or member update; a ConfChange
// entry holds a membership change. Both are tagged with the member and proposal id that wait for
// the result, encoded once by the proposer (msgpack, or a hand-made layout for puts) and decoded
// when applied.
import type { ConfChangeType, NodeId } from '../raft/types.js';
import type { DeleteRangeRequest, PutRequest, TxnRequest } from '../../storage/mvcc/index.js';
import type { MemberRecord } from '../../storage/state/state-store.js';
import { RESERVE_START_SPACE } from 'msgpackr';
import { pack, packr, unpack } from '../../storage/msgpack.js';

export type WriteRequest =
  | { op: 'put'; put: PutRequest }
  | { op: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { op: 'txn'; txn: TxnRequest }
  | { op: 'compact'; revision: number }
  /** A member announces its name and client URLs once it serves (etcd's "publish"). */
  | { op: 'memberAttributes'; memberId: NodeId; name: string; clientUrls: string[] }
  | { op: 'memberPeerUrls'; memberId: NodeId; peerUrls: string[] }
  | { op: 'leaseGrant'; id: bigint; ttl: number }
  /** Explicit, or the leader's when the lease expired. */
  | { op: 'leaseRevoke'; id: bigint };

export interface InternalRequest {
  /** The member whose client waits for the result. */
  origin: bigint;
  /** Unique among the origin's in-flight proposals. */
  id: number;
  request: WriteRequest;
}

export interface ConfChangeRequest {
  origin: bigint;
  id: number;
  type: ConfChangeType;
  nodeId: NodeId;
  /** The member being added or promoted. */
  member?: MemberRecord;
}

/**
 * Layout: origin (u64 BE) | id (f64 BE) | body. The fixed header lets the proposer find its own
 * request by id when the entry is applied, without decoding it again.
 *
 * The body is msgpack(request), except for a plain put (the hot path), which is laid out by hand:
 * PUT_TAG | flags u8 | [lease u64 BE] | key length u32 BE | key | value. PUT_TAG is a msgpack
 * positive fixint, never the start of an encoded request (a map), so the two cannot be confused.
 */
const HEADER_BYTES = 16;
const PUT_TAG = 0x01;
const PREV_KV = 1;
const IGNORE_VALUE = 2;
const IGNORE_LEASE = 4;
const HAS_LEASE = 8;
const TWO_64 = 1n << 64n;

export function encodeInternalRequest(r: InternalRequest): Buffer {
  const req = r.request;
  const buf = req.op === 'put' && isPlainLease(req.put.lease) ? encodePut(req.put) : packr.pack(req, RESERVE_START_SPACE | HEADER_BYTES);
  buf.writeBigUInt64BE(r.origin, 0);
  buf.writeDoubleBE(r.id, 8);
  return buf;
}

/** A lease the hand-written layout holds exactly (msgpack carries anything else). */
function isPlainLease(lease: bigint | undefined): boolean {
  return lease === undefined || (typeof lease === 'bigint' && lease >= 0n && lease < TWO_64);
}

/**
 * Put entries are carved from slabs of their own: Node's 8 KiB pool would need a new ArrayBuffer
 * every few puts of 1 KiB values. Entries leave the Raft log in order, so slabs are freed whole.
 */
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

function allocEntry(size: number): Buffer {
  if (size > SLAB_BYTES >>> 4) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const buf = slab.subarray(slabUsed, slabUsed + size);
  // 8-byte aligned, as Node's pool keeps its slices.
  slabUsed = (slabUsed + size + 7) & ~7;
  return buf;
}

function encodePut(p: PutRequest): Buffer {
  const leaseBytes = p.lease === undefined ? 0 : 8;
  const at = HEADER_BYTES + 2 + leaseBytes;
  const buf = allocEntry(at + 4 + p.key.length + p.value.length);
  buf[HEADER_BYTES] = PUT_TAG;
  buf[HEADER_BYTES + 1] =
    (p.prevKv === true ? PREV_KV : 0) | (p.ignoreValue === true ? IGNORE_VALUE : 0) | (p.ignoreLease === true ? IGNORE_LEASE : 0) | (leaseBytes > 0 ? HAS_LEASE : 0);
  if (p.lease !== undefined) buf.writeBigUInt64BE(p.lease, HEADER_BYTES + 2);
  buf.writeUInt32BE(p.key.length, at);
  buf.set(p.key, at + 4);
  buf.set(p.value, at + 4 + p.key.length);
  return buf;
}

/** A put as encodePut laid it out; key and value are views of `data`. */
function decodePut(data: Uint8Array): WriteRequest {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const flags = view[HEADER_BYTES + 1]!;
  const hasLease = (flags & HAS_LEASE) !== 0;
  const at = HEADER_BYTES + 2 + (hasLease ? 8 : 0);
  const keyEnd = at + 4 + view.readUInt32BE(at);
  const put: PutRequest = {
    key: view.subarray(at + 4, keyEnd),
    value: view.subarray(keyEnd),
    prevKv: (flags & PREV_KV) !== 0,
    ignoreValue: (flags & IGNORE_VALUE) !== 0,
    ignoreLease: (flags & IGNORE_LEASE) !== 0,
  };
  if (hasLease) put.lease = view.readBigUInt64BE(HEADER_BYTES + 2);
  return { op: 'put', put };
}

export function requestOrigin(data: Uint8Array): { origin: bigint; id: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { origin: view.getBigUint64(0), id: view.getFloat64(8) };
}

export const decodeWriteRequest = (data: Uint8Array): WriteRequest =>
  data[HEADER_BYTES] === PUT_TAG ? decodePut(data) : unpack<WriteRequest>(data.subarray(HEADER_BYTES));
export const encodeConfChange = (r: ConfChangeRequest): Buffer => pack(r);
export const decodeConfChange = (data: Uint8Array): ConfChangeRequest => unpack<ConfChangeRequest>(data);
