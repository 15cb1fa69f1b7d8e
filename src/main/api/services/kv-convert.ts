// Between the wire's KV messages (etcdserverpb, with oneofs) and the MVCC store's requests and
// responses. Responses nested in a txn carry a header with only the revision, as etcd's do.
import type * as mvcc from '../../../storage/mvcc/index.js';
import type * as pb from '../proto/index.js';
import type { Init } from '../proto/index.js';

export function toMvccTxn(t: pb.TxnRequest): mvcc.TxnRequest {
  return {
    compare: t.compare.map(toMvccCompare),
    success: t.success.map(toMvccOp),
    failure: t.failure.map(toMvccOp),
  };
}

function toMvccCompare(c: pb.Compare): mvcc.Compare {
  const out: mvcc.Compare = { result: c.result, target: c.target, key: c.key, rangeEnd: c.rangeEnd };
  switch (c.targetUnion) {
    case 'version':
      out.version = c.version;
      break;
    case 'createRevision':
      out.createRevision = c.createRevision;
      break;
    case 'modRevision':
      out.modRevision = c.modRevision;
      break;
    case 'value':
      out.value = c.value;
      break;
    case 'lease':
      out.lease = c.lease;
      break;
  }
  return out;
}

/** Ops were validated (checkTxn), so each has exactly one request set. */
function toMvccOp(op: pb.RequestOp): mvcc.RequestOp {
  switch (op.request) {
    case 'requestRange':
      return { range: op.requestRange };
    case 'requestPut':
      return { put: op.requestPut };
    case 'requestDeleteRange':
      return { deleteRange: op.requestDeleteRange };
    case 'requestTxn':
      return { txn: toMvccTxn(op.requestTxn) };
    default:
      throw new Error('txn op without a request (not validated?)');
  }
}

export type Header = Init<pb.ResponseHeader>;

export function rangeResponse(r: mvcc.RangeResponse, header: Header): Init<pb.RangeResponse> {
  return { header, kvs: r.kvs, more: r.more, count: r.count };
}

export function putResponse(r: mvcc.PutResponse, header: Header): Init<pb.PutResponse> {
  return { header, prevKv: r.prevKv };
}

export function deleteRangeResponse(r: mvcc.DeleteRangeResponse, header: Header): Init<pb.DeleteRangeResponse> {
  return { header, deleted: r.deleted, prevKvs: r.prevKvs };
}

export function txnResponse(r: mvcc.TxnResponse, header: Header): Init<pb.TxnResponse> {
  return { header, succeeded: r.succeeded, responses: r.responses.map(responseOp) };
}

function responseOp(op: mvcc.ResponseOp): Init<pb.ResponseOp> {
  if ('range' in op) return { responseRange: rangeResponse(op.range, { revision: op.range.revision }) };
  if ('put' in op) return { responsePut: putResponse(op.put, { revision: op.put.revision }) };
  if ('deleteRange' in op) {
    return { responseDeleteRange: deleteRangeResponse(op.deleteRange, { revision: op.deleteRange.revision }) };
  }
  // etcd leaves a nested txn's header empty (but present).
  return { responseTxn: txnResponse(op.txn, {}) };
}
