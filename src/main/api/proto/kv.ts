// etcdserverpb KV service messages: Range, Put, DeleteRange, Txn, Compact.

import { codec, type Init, type OneOf } from './codec.js';
import { decodeResponseHeader, encodeResponseHeader, headerOnlyCodec, type HeaderOnly, type ResponseHeader } from './header.js';
import { decodeKeyValue, encodeKeyValue, type KeyValue } from './mvcc.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

// ---- Range

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;

export interface RangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  limit: number;
  revision: number;
  /** SortOrder */
  sortOrder: number;
  /** SortTarget */
  sortTarget: number;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}

export function encodeRangeRequest(w: Writer, m: Init<RangeRequest>): void {
  w.bytes(1, m.key);
  w.bytes(2, m.rangeEnd);
  w.int(3, m.limit);
  w.int(4, m.revision);
  w.int(5, m.sortOrder);
  w.int(6, m.sortTarget);
  w.bool(7, m.serializable);
  w.bool(8, m.keysOnly);
  w.bool(9, m.countOnly);
  w.int(10, m.minModRevision);
  w.int(11, m.maxModRevision);
  w.int(12, m.minCreateRevision);
  w.int(13, m.maxCreateRevision);
}

export function decodeRangeRequest(r: Reader, end: number): RangeRequest {
  const m: RangeRequest = {
    key: EMPTY_BYTES, rangeEnd: EMPTY_BYTES, limit: 0, revision: 0, sortOrder: 0, sortTarget: 0,
    serializable: false, keysOnly: false, countOnly: false,
    minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.key = r.bytes(tag); break;
      case 2: m.rangeEnd = r.bytes(tag); break;
      case 3: m.limit = r.int(tag); break;
      case 4: m.revision = r.int(tag); break;
      case 5: m.sortOrder = r.int32(tag); break;
      case 6: m.sortTarget = r.int32(tag); break;
      case 7: m.serializable = r.bool(tag); break;
      case 8: m.keysOnly = r.bool(tag); break;
      case 9: m.countOnly = r.bool(tag); break;
      case 10: m.minModRevision = r.int(tag); break;
      case 11: m.maxModRevision = r.int(tag); break;
      case 12: m.minCreateRevision = r.int(tag); break;
      case 13: m.maxCreateRevision = r.int(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface RangeResponse {
  header?: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export function encodeRangeResponse(w: Writer, m: Init<RangeResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.messages(2, m.kvs, encodeKeyValue);
  w.bool(3, m.more);
  w.int(4, m.count);
}

export function decodeRangeResponse(r: Reader, end: number): RangeResponse {
  const m: RangeResponse = { header: undefined, kvs: [], more: false, count: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.kvs.push(r.message(tag, decodeKeyValue)); break;
      case 3: m.more = r.bool(tag); break;
      case 4: m.count = r.int(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- Put

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: bigint;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

export function encodePutRequest(w: Writer, m: Init<PutRequest>): void {
  w.bytes(1, m.key);
  w.bytes(2, m.value);
  w.id(3, m.lease);
  w.bool(4, m.prevKv);
  w.bool(5, m.ignoreValue);
  w.bool(6, m.ignoreLease);
}

export function decodePutRequest(r: Reader, end: number): PutRequest {
  const m: PutRequest = { key: EMPTY_BYTES, value: EMPTY_BYTES, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.key = r.bytes(tag); break;
      case 2: m.value = r.bytes(tag); break;
      case 3: m.lease = r.id(tag); break;
      case 4: m.prevKv = r.bool(tag); break;
      case 5: m.ignoreValue = r.bool(tag); break;
      case 6: m.ignoreLease = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface PutResponse {
  header?: ResponseHeader;
  prevKv?: KeyValue;
}

export function encodePutResponse(w: Writer, m: Init<PutResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.message(2, m.prevKv, encodeKeyValue);
}

export function decodePutResponse(r: Reader, end: number): PutResponse {
  const m: PutResponse = { header: undefined, prevKv: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.prevKv = r.message(tag, decodeKeyValue); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- DeleteRange

export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  prevKv: boolean;
}

export function encodeDeleteRangeRequest(w: Writer, m: Init<DeleteRangeRequest>): void {
  w.bytes(1, m.key);
  w.bytes(2, m.rangeEnd);
  w.bool(3, m.prevKv);
}

export function decodeDeleteRangeRequest(r: Reader, end: number): DeleteRangeRequest {
  const m: DeleteRangeRequest = { key: EMPTY_BYTES, rangeEnd: EMPTY_BYTES, prevKv: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.key = r.bytes(tag); break;
      case 2: m.rangeEnd = r.bytes(tag); break;
      case 3: m.prevKv = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface DeleteRangeResponse {
  header?: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export function encodeDeleteRangeResponse(w: Writer, m: Init<DeleteRangeResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.int(2, m.deleted);
  w.messages(3, m.prevKvs, encodeKeyValue);
}

export function decodeDeleteRangeResponse(r: Reader, end: number): DeleteRangeResponse {
  const m: DeleteRangeResponse = { header: undefined, deleted: 0, prevKvs: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.deleted = r.int(tag); break;
      case 3: m.prevKvs.push(r.message(tag, decodeKeyValue)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- Txn

export type RequestOp = OneOf<'request', {
  requestRange: RangeRequest;
  requestPut: PutRequest;
  requestDeleteRange: DeleteRangeRequest;
  requestTxn: TxnRequest;
}>;

export function encodeRequestOp(w: Writer, m: Init<RequestOp>): void {
  if (m.requestRange !== undefined) w.message(1, m.requestRange, encodeRangeRequest);
  else if (m.requestPut !== undefined) w.message(2, m.requestPut, encodePutRequest);
  else if (m.requestDeleteRange !== undefined) w.message(3, m.requestDeleteRange, encodeDeleteRangeRequest);
  else if (m.requestTxn !== undefined) w.message(4, m.requestTxn, encodeTxnRequest);
}

export function decodeRequestOp(r: Reader, end: number): RequestOp {
  let m: RequestOp = {};
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m = { request: 'requestRange', requestRange: r.message(tag, decodeRangeRequest) }; break;
      case 2: m = { request: 'requestPut', requestPut: r.message(tag, decodePutRequest) }; break;
      case 3: m = { request: 'requestDeleteRange', requestDeleteRange: r.message(tag, decodeDeleteRangeRequest) }; break;
      case 4: m = { request: 'requestTxn', requestTxn: r.message(tag, decodeTxnRequest) }; break;
      default: r.skip(tag);
    }
  }
  return m;
}

export type ResponseOp = OneOf<'response', {
  responseRange: RangeResponse;
  responsePut: PutResponse;
  responseDeleteRange: DeleteRangeResponse;
  responseTxn: TxnResponse;
}>;

export function encodeResponseOp(w: Writer, m: Init<ResponseOp>): void {
  if (m.responseRange !== undefined) w.message(1, m.responseRange, encodeRangeResponse);
  else if (m.responsePut !== undefined) w.message(2, m.responsePut, encodePutResponse);
  else if (m.responseDeleteRange !== undefined) w.message(3, m.responseDeleteRange, encodeDeleteRangeResponse);
  else if (m.responseTxn !== undefined) w.message(4, m.responseTxn, encodeTxnResponse);
}

export function decodeResponseOp(r: Reader, end: number): ResponseOp {
  let m: ResponseOp = {};
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m = { response: 'responseRange', responseRange: r.message(tag, decodeRangeResponse) }; break;
      case 2: m = { response: 'responsePut', responsePut: r.message(tag, decodePutResponse) }; break;
      case 3: m = { response: 'responseDeleteRange', responseDeleteRange: r.message(tag, decodeDeleteRangeResponse) }; break;
      case 4: m = { response: 'responseTxn', responseTxn: r.message(tag, decodeTxnResponse) }; break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

/** The value a Compare checks against; which member is set must agree with `target`. */
export type CompareTargetUnion = OneOf<'targetUnion', {
  version: number;
  createRevision: number;
  modRevision: number;
  value: Buffer;
  lease: bigint;
}>;

export type Compare = {
  /** CompareResult */
  result: number;
  /** CompareTarget */
  target: number;
  key: Buffer;
  rangeEnd: Buffer;
} & CompareTargetUnion;

export function encodeCompare(w: Writer, m: Init<Compare>): void {
  w.int(1, m.result);
  w.int(2, m.target);
  w.bytes(3, m.key);
  if (m.version !== undefined) w.intPresent(4, m.version);
  else if (m.createRevision !== undefined) w.intPresent(5, m.createRevision);
  else if (m.modRevision !== undefined) w.intPresent(6, m.modRevision);
  else if (m.value !== undefined) w.bytesPresent(7, m.value);
  else if (m.lease !== undefined) w.idPresent(8, m.lease);
  w.bytes(64, m.rangeEnd);
}

export function decodeCompare(r: Reader, end: number): Compare {
  let result = 0;
  let target = 0;
  let key = EMPTY_BYTES;
  let rangeEnd = EMPTY_BYTES;
  let union: CompareTargetUnion = {};
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: result = r.int32(tag); break;
      case 2: target = r.int32(tag); break;
      case 3: key = r.bytes(tag); break;
      case 4: union = { targetUnion: 'version', version: r.int(tag) }; break;
      case 5: union = { targetUnion: 'createRevision', createRevision: r.int(tag) }; break;
      case 6: union = { targetUnion: 'modRevision', modRevision: r.int(tag) }; break;
      case 7: union = { targetUnion: 'value', value: r.bytes(tag) }; break;
      case 8: union = { targetUnion: 'lease', lease: r.id(tag) }; break;
      case 64: rangeEnd = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return { result, target, key, rangeEnd, ...union };
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export function encodeTxnRequest(w: Writer, m: Init<TxnRequest>): void {
  w.messages(1, m.compare, encodeCompare);
  w.messages(2, m.success, encodeRequestOp);
  w.messages(3, m.failure, encodeRequestOp);
}

export function decodeTxnRequest(r: Reader, end: number): TxnRequest {
  const m: TxnRequest = { compare: [], success: [], failure: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.compare.push(r.message(tag, decodeCompare)); break;
      case 2: m.success.push(r.message(tag, decodeRequestOp)); break;
      case 3: m.failure.push(r.message(tag, decodeRequestOp)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface TxnResponse {
  header?: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export function encodeTxnResponse(w: Writer, m: Init<TxnResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.bool(2, m.succeeded);
  w.messages(3, m.responses, encodeResponseOp);
}

export function decodeTxnResponse(r: Reader, end: number): TxnResponse {
  const m: TxnResponse = { header: undefined, succeeded: false, responses: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.succeeded = r.bool(tag); break;
      case 3: m.responses.push(r.message(tag, decodeResponseOp)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- Compact

export interface CompactionRequest {
  revision: number;
  physical: boolean;
}

export function encodeCompactionRequest(w: Writer, m: Init<CompactionRequest>): void {
  w.int(1, m.revision);
  w.bool(2, m.physical);
}

export function decodeCompactionRequest(r: Reader, end: number): CompactionRequest {
  const m: CompactionRequest = { revision: 0, physical: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.revision = r.int(tag); break;
      case 2: m.physical = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export type CompactionResponse = HeaderOnly;

export const RangeRequestCodec = codec('etcdserverpb.RangeRequest', encodeRangeRequest, decodeRangeRequest);
export const RangeResponseCodec = codec('etcdserverpb.RangeResponse', encodeRangeResponse, decodeRangeResponse);
export const PutRequestCodec = codec('etcdserverpb.PutRequest', encodePutRequest, decodePutRequest);
export const PutResponseCodec = codec('etcdserverpb.PutResponse', encodePutResponse, decodePutResponse);
export const DeleteRangeRequestCodec = codec('etcdserverpb.DeleteRangeRequest', encodeDeleteRangeRequest, decodeDeleteRangeRequest);
export const DeleteRangeResponseCodec = codec('etcdserverpb.DeleteRangeResponse', encodeDeleteRangeResponse, decodeDeleteRangeResponse);
export const RequestOpCodec = codec('etcdserverpb.RequestOp', encodeRequestOp, decodeRequestOp);
export const ResponseOpCodec = codec('etcdserverpb.ResponseOp', encodeResponseOp, decodeResponseOp);
export const CompareCodec = codec('etcdserverpb.Compare', encodeCompare, decodeCompare);
export const TxnRequestCodec = codec('etcdserverpb.TxnRequest', encodeTxnRequest, decodeTxnRequest);
export const TxnResponseCodec = codec('etcdserverpb.TxnResponse', encodeTxnResponse, decodeTxnResponse);
export const CompactionRequestCodec = codec('etcdserverpb.CompactionRequest', encodeCompactionRequest, decodeCompactionRequest);
export const CompactionResponseCodec = headerOnlyCodec('etcdserverpb.CompactionResponse');
