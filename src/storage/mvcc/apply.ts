// etcdserver's write requests on top of an MVCC write view (apply.go): Put with prev_kv /
// ignore_value / ignore_lease, DeleteRange with prev_kv, and Txn: every compare (nested ones too) is
// evaluated before anything is written, the requests on the chosen path are checked, then run in order
// within the one write view, so reads see the txn's earlier writes.
import { Errors } from '../../main/errors.js';
import { EMPTY_BYTES } from './kv-codec.js';
import { applyRange } from './range.js';
import { indexKey, indexRangeEnd } from './tree-index.js';
import {
  CompareResult,
  CompareTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './types.js';
import type { ReadView, WriteView } from './view.js';

export function applyPut(tx: WriteView, p: PutRequest): PutResponse {
  const key = indexKey(p.key);
  let value = p.value;
  let lease = p.lease ?? 0n;
  let prev: KeyValue | undefined;
  if (p.ignoreValue === true || p.ignoreLease === true || p.prevKv === true) {
    prev = tx.rangeKeys(key, undefined, 0, 0, false).kvs[0];
  }
  if (p.ignoreValue === true || p.ignoreLease === true) {
    if (prev === undefined) throw Errors.keyNotFound;
    if (p.ignoreValue === true) value = prev.value;
    if (p.ignoreLease === true) lease = prev.lease;
  }
  const revision = tx.put(p.key, key, value, lease);
  return p.prevKv === true && prev !== undefined ? { prevKv: prev, revision } : { revision };
}

export function applyDeleteRange(tx: WriteView, dr: DeleteRangeRequest): DeleteRangeResponse {
  const key = indexKey(dr.key);
  const end = indexRangeEnd(dr.rangeEnd);
  const prevKvs = dr.prevKv === true ? tx.rangeKeys(key, end, 0, 0, false).kvs : [];
  const { deleted, rev } = tx.deleteRange(key, end);
  return { deleted, prevKvs, revision: rev };
}

/** A txn with its compares decided: the ops to run and, for each nested txn among them, its plan. */
interface TxnPlan {
  succeeded: boolean;
  ops: RequestOp[];
  nested: (TxnPlan | undefined)[];
}

/** `leaseExists`: when given, a put on the chosen path with an unknown lease fails the txn (etcd's checkRequestPut). */
export function applyTxn(tx: WriteView, rt: TxnRequest, leaseExists?: (id: bigint) => boolean): TxnResponse {
  const plan = planTxn(tx, rt);
  checkPuts(tx, plan, leaseExists);
  checkRanges(tx, plan);
  const resp = runTxn(tx, plan);
  resp.revision = tx.changes > 0 ? tx.rev + 1 : tx.rev;
  return resp;
}

function planTxn(view: ReadView, rt: TxnRequest): TxnPlan {
  const succeeded = rt.compare.every((c) => applyCompare(view, c));
  const ops = succeeded ? rt.success : rt.failure;
  return { succeeded, ops, nested: ops.map((op) => ('txn' in op ? planTxn(view, op.txn) : undefined)) };
}

/** Calls fn for every non-txn request on the plan's path, depth first, in order. */
function forEachRequest(plan: TxnPlan, fn: (op: RequestOp) => void): void {
  plan.ops.forEach((op, i) => ('txn' in op ? forEachRequest(plan.nested[i]!, fn) : fn(op)));
}

/** ignore_value / ignore_lease need the key to exist before the txn, and a lease must exist (checkRequestPut). */
function checkPuts(view: ReadView, plan: TxnPlan, leaseExists: ((id: bigint) => boolean) | undefined): void {
  forEachRequest(plan, (op) => {
    if (!('put' in op)) return;
    if (op.put.ignoreValue === true || op.put.ignoreLease === true) {
      if (view.rangeKeys(indexKey(op.put.key), undefined, 0, 0, true).count === 0) throw Errors.keyNotFound;
    }
    const lease = op.put.lease ?? 0n;
    if (lease !== 0n && leaseExists !== undefined && !leaseExists(lease)) throw Errors.leaseNotFound;
  });
}

/** A range's revision must be readable at the start of the txn (checkRequestRange). */
function checkRanges(view: ReadView, plan: TxnPlan): void {
  forEachRequest(plan, (op) => {
    const rev = 'range' in op ? (op.range.revision ?? 0) : 0;
    if (rev === 0) return;
    if (rev > view.rev) throw Errors.futureRev;
    if (rev < view.firstRev) throw Errors.compacted;
  });
}

function runTxn(tx: WriteView, plan: TxnPlan): TxnResponse {
  const responses = plan.ops.map((op, i): ResponseOp => {
    if ('range' in op) return { range: applyRange(tx, op.range) };
    if ('put' in op) return { put: applyPut(tx, op.put) };
    if ('deleteRange' in op) return { deleteRange: applyDeleteRange(tx, op.deleteRange) };
    return { txn: runTxn(tx, plan.nested[i]!) };
  });
  return { succeeded: plan.succeeded, responses, revision: 0 }; // etcd leaves a nested txn's header empty
}

/** Every key in the compare's range must satisfy it; an empty range compares a zero KeyValue, except for VALUE. */
function applyCompare(view: ReadView, c: Compare): boolean {
  const { kvs } = view.rangeKeys(indexKey(c.key), indexRangeEnd(c.rangeEnd), 0, 0, false);
  if (kvs.length === 0) return c.target !== CompareTarget.Value && compareKv(c, undefined);
  return kvs.every((kv) => compareKv(c, kv));
}

/** etcd's compareKV; like etcd, an unknown target compares equal and an unknown result holds. */
function compareKv(c: Compare, kv: KeyValue | undefined): boolean {
  let result = 0;
  switch (c.target) {
    case CompareTarget.Value:
      result = Buffer.compare(kv?.value ?? EMPTY_BYTES, c.value ?? EMPTY_BYTES);
      break;
    case CompareTarget.Create:
      result = sign((kv?.createRevision ?? 0) - (c.createRevision ?? 0));
      break;
    case CompareTarget.Mod:
      result = sign((kv?.modRevision ?? 0) - (c.modRevision ?? 0));
      break;
    case CompareTarget.Version:
      result = sign((kv?.version ?? 0) - (c.version ?? 0));
      break;
    case CompareTarget.Lease: {
      const a = kv?.lease ?? 0n;
      const b = c.lease ?? 0n;
      result = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
  }
  switch (c.result) {
    case CompareResult.Equal:
      return result === 0;
    case CompareResult.NotEqual:
      return result !== 0;
    case CompareResult.Greater:
      return result > 0;
    case CompareResult.Less:
      return result < 0;
    default:
      return true;
  }
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
