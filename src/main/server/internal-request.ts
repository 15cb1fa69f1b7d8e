// What a Normal Raft entry carries: one client write, tagged with the member and proposal id
// that wait for its result. Encoded once by the proposer with msgpack; decoded when applied.
import type { DeleteRangeRequest, PutRequest, TxnRequest } from '../../storage/mvcc/index.js';
import { pack, unpack } from '../../storage/msgpack.js';

export type WriteRequest =
  | { op: 'put'; put: PutRequest }
  | { op: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { op: 'txn'; txn: TxnRequest }
  | { op: 'compact'; revision: number };

export interface InternalRequest {
  /** The member whose client waits for the result. */
  origin: bigint;
  /** Unique among the origin's in-flight proposals. */
  id: number;
  request: WriteRequest;
}

export const encodeInternalRequest = (r: InternalRequest): Buffer => pack(r);
export const decodeInternalRequest = (data: Uint8Array): InternalRequest => unpack<InternalRequest>(data);
