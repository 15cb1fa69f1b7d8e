// etcdserverpb.KV: validate as etcd does, then reads go to the member (linearizable unless
// serializable) and writes are proposed through Raft.
import type { Member } from '../../server/member.js';
import type { KVService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';
import type * as pb from '../proto/index.js';
import { deleteRangeResponse, putResponse, rangeResponse, toMvccTxn, txnResponse } from './kv-convert.js';
import { checkDeleteRange, checkPut, checkRange, checkTxn } from './kv-validate.js';

function isTxnReadOnly(t: pb.TxnRequest): boolean {
  const readOnly = (op: pb.RequestOp): boolean =>
    op.request === 'requestRange' || (op.request === 'requestTxn' && isTxnReadOnly(op.requestTxn));
  return t.success.every(readOnly) && t.failure.every(readOnly);
}

/** etcd's isTxnSerializable: every op of both branches is a serializable range. */
function isTxnSerializable(t: pb.TxnRequest): boolean {
  const serializable = (op: pb.RequestOp) => op.request === 'requestRange' && op.requestRange.serializable;
  return t.success.every(serializable) && t.failure.every(serializable);
}

export function kvHandlers(member: Member): ServiceHandlers<typeof KVService> {
  return {
    async Range(req) {
      checkRange(req);
      const { revision, response } = await member.range(req, req.serializable);
      return rangeResponse(response, member.header(revision));
    },

    async Put(req) {
      checkPut(req);
      const res = await member.write({ op: 'put', put: req });
      if (res.op !== 'put') throw new Error('put answered with ' + res.op);
      return putResponse(res.put, member.header(res.revision));
    },

    async DeleteRange(req) {
      checkDeleteRange(req);
      const res = await member.write({ op: 'deleteRange', deleteRange: req });
      if (res.op !== 'deleteRange') throw new Error('deleteRange answered with ' + res.op);
      return deleteRangeResponse(res.deleteRange, member.header(res.revision));
    },

    async Txn(req) {
      checkTxn(req, member.config.maxTxnOps);
      const txn = toMvccTxn(req);
      if (isTxnReadOnly(req)) {
        const result = await member.readTxn(txn, isTxnSerializable(req));
        return txnResponse(result, member.header(result.revision));
      }
      const res = await member.write({ op: 'txn', txn });
      if (res.op !== 'txn') throw new Error('txn answered with ' + res.op);
      return txnResponse(res.txn, member.header(res.revision));
    },

    async Compact(req) {
      const res = await member.write({ op: 'compact', revision: req.revision });
      return { header: member.header(res.revision) };
    },
  };
}
