// The KV requests and responses the MVCC store answers, shaped after etcd's rpc.proto
// (etcdserverpb) and kv.proto (mvccpb). Keys and values are raw bytes; a missing optional
// field means what the proto3 zero value means on the wire.

/** mvccpb.KeyValue. Revisions are etcd main revisions; lease 0n means none. */
export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

export const enum SortOrder {
  None = 0,
  Ascend = 1,
  Descend = 2,
}

export const enum SortTarget {
  Key = 0,
  Version = 1,
  Create = 2,
  Mod = 3,
  Value = 4,
}

/**
 * rangeEnd: undefined or empty = `key` alone; one 0x00 byte = every key >= `key`; otherwise [key, rangeEnd).
 * revision: 0 = current. limit <= 0 = no limit. A min/max filter of 0 is off.
 */
export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  /** Meaningful to the member (no linearizable read barrier); the store ignores it. */
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

/**
 * `revision` is what etcd puts in this response's header.revision: the store's revision when the
 * read ran (inside a txn: the txn's start revision, +1 once the txn has written), not the revision read at.
 */
export interface RangeResponse {
  kvs: KeyValue[];
  more: boolean;
  /** Keys in the range at the revision read, before limit and before the min/max filters. */
  count: number;
  revision: number;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

/** `revision`: etcd's header.revision for this put (the revision it was written at). */
export interface PutResponse {
  prevKv?: KeyValue;
  revision: number;
}

export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  prevKv?: boolean;
}

/** `revision`: etcd's header.revision (unchanged when nothing was deleted and the txn had not written). */
export interface DeleteRangeResponse {
  deleted: number;
  prevKvs: KeyValue[];
  revision: number;
}

export const enum CompareResult {
  Equal = 0,
  Greater = 1,
  Less = 2,
  NotEqual = 3,
}

export const enum CompareTarget {
  Version = 0,
  Create = 1,
  Mod = 2,
  Value = 3,
  Lease = 4,
}

/** Only the field named by `target` is read; a missing one compares as 0 (or empty bytes for Value). */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Buffer;
  rangeEnd?: Buffer;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Buffer;
  lease?: bigint;
}

export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

export type ResponseOp =
  | { range: RangeResponse }
  | { put: PutResponse }
  | { deleteRange: DeleteRangeResponse }
  | { txn: TxnResponse };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/**
 * `revision`: etcd's header.revision. For the outermost txn it is the store's revision after the txn;
 * etcd leaves a nested txn's header empty, so a nested TxnResponse has revision 0.
 */
export interface TxnResponse {
  succeeded: boolean;
  responses: ResponseOp[];
  revision: number;
}

export interface HashKVResult {
  hash: number;
  compactRevision: number;
  /** The store's current revision (etcd's header.revision), not the revision hashed up to. */
  revision: number;
}
