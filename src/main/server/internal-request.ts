// What Raft entries carry. A Normal entry holds one client write or member update; a ConfChange
// entry holds a membership change. Both are tagged with the member and proposal id that wait for
// the result, encoded once by the proposer with msgpack and decoded when applied.
import type { ConfChangeType, NodeId } from '../raft/types.js';
import type { DeleteRangeRequest, PutRequest, TxnRequest } from '../../storage/mvcc/index.js';
import type { MemberRecord } from '../../storage/state/state-store.js';
import { pack, unpack } from '../../storage/msgpack.js';

export type WriteRequest =
  | { op: 'put'; put: PutRequest }
  | { op: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { op: 'txn'; txn: TxnRequest }
  | { op: 'compact'; revision: number }
  /** A member announces its name and client URLs once it serves (etcd's "publish"). */
  | { op: 'memberAttributes'; memberId: NodeId; name: string; clientUrls: string[] }
  | { op: 'memberPeerUrls'; memberId: NodeId; peerUrls: string[] };

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

export const encodeInternalRequest = (r: InternalRequest): Buffer => pack(r);
export const decodeInternalRequest = (data: Uint8Array): InternalRequest => unpack<InternalRequest>(data);
export const encodeConfChange = (r: ConfChangeRequest): Buffer => pack(r);
export const decodeConfChange = (data: Uint8Array): ConfChangeRequest => unpack<ConfChangeRequest>(data);
