// What Raft entries carry. A Normal entry holds one client write or member update; a ConfChange
// entry holds a membership change. Both are tagged with the member and proposal id that wait for
// the result, encoded once by the proposer with msgpack and decoded when applied.
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
 * Layout: origin (u64 BE) | id (f64 BE) | msgpack(request). The fixed header lets the proposer
 * find its own request by id when the entry is applied, without decoding it again.
 */
const HEADER_BYTES = 16;

export function encodeInternalRequest(r: InternalRequest): Buffer {
  const buf = packr.pack(r.request, RESERVE_START_SPACE | HEADER_BYTES);
  buf.writeBigUInt64BE(r.origin, 0);
  buf.writeDoubleBE(r.id, 8);
  return buf;
}

export function requestOrigin(data: Uint8Array): { origin: bigint; id: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { origin: view.getBigUint64(0), id: view.getFloat64(8) };
}

export const decodeWriteRequest = (data: Uint8Array): WriteRequest => unpack<WriteRequest>(data.subarray(HEADER_BYTES));
export const encodeConfChange = (r: ConfChangeRequest): Buffer => pack(r);
export const decodeConfChange = (data: Uint8Array): ConfChangeRequest => unpack<ConfChangeRequest>(data);
