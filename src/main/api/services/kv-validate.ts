// etcd's checks on KV requests before they are proposed (etcdserver/api/v3rpc/key.go),
// with etcd's errors: empty keys, value/lease given with ignore_*, too many txn ops,
// and puts/deletes in one txn that touch the same key.
import { Errors } from '../../errors.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../proto/index.js';

export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey;
}

export function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey;
  if (r.ignoreValue && r.value.length !== 0) throw Errors.valueProvided;
  if (r.ignoreLease && r.lease !== 0n) throw Errors.leaseProvided;
}

export function checkDeleteRange(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey;
}

export function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  checkTxnOps(r, maxTxnOps);
  // After the cheap checks, as etcd does, to avoid quadratic work on oversized requests.
  checkOverlaps(r.success);
  checkOverlaps(r.failure);
}

function checkTxnOps(r: TxnRequest, maxTxnOps: number): void {
  const ops = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (ops > maxTxnOps) throw Errors.tooManyOps;
  for (const c of r.compare) if (c.key.length === 0) throw Errors.emptyKey;
  for (const op of r.success) checkOp(op, maxTxnOps - ops);
  for (const op of r.failure) checkOp(op, maxTxnOps - ops);
}

function checkOp(op: RequestOp, maxTxnOps: number): void {
  switch (op.request) {
    case 'requestRange':
      return checkRange(op.requestRange);
    case 'requestPut':
      return checkPut(op.requestPut);
    case 'requestDeleteRange':
      return checkDeleteRange(op.requestDeleteRange);
    case 'requestTxn':
      return checkTxnOps(op.requestTxn, maxTxnOps);
    default:
      // An op with no request set.
      throw Errors.keyNotFound;
  }
}

/** A deleted range [begin, end); an empty end means "to the end of the key space", as etcd's affine intervals do. */
interface Interval {
  begin: string;
  end: string;
}

const latin1 = (b: Buffer) => b.toString('latin1');

/**
 * etcd takes a range_end of "\0" literally here, so a txn deleting everything from a key and
 * putting a key in that range passes its check and then fails in apply (etcd 3.4 panics on it).
 * We read "\0" as "no upper bound", as the delete itself does, and refuse such a txn up front.
 */
function deleteEnd(rangeEnd: Buffer, begin: string): string {
  if (rangeEnd.length === 0) return begin + '\0';
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return '';
  return latin1(rangeEnd);
}

function intersectsPoint(dels: readonly Interval[], key: string): boolean {
  // A point k is the interval [k, k + "\0"): it meets [b, e) when b <= k and k < e (or e is open).
  return dels.some((d) => d.begin <= key && (d.end === '' || key < d.end));
}

/**
 * etcd's checkIntervals: within one branch, a key may be put at most once and not both put and
 * deleted; the success and failure branches of a nested txn may put the same key.
 */
function checkOverlaps(ops: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.request !== 'requestDeleteRange') continue;
    const d = op.requestDeleteRange;
    const begin = latin1(d.key);
    dels.push({ begin, end: deleteEnd(d.rangeEnd, begin) });
  }

  const puts = new Set<string>();
  for (const op of ops) {
    if (op.request !== 'requestTxn') continue;
    const then = checkOverlaps(op.requestTxn.success);
    const otherwise = checkOverlaps(op.requestTxn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || intersectsPoint(dels, k)) throw Errors.duplicateKey;
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw Errors.duplicateKey;
      if (intersectsPoint(dels, k)) throw Errors.duplicateKey;
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }

  for (const op of ops) {
    if (op.request !== 'requestPut') continue;
    const k = latin1(op.requestPut.key);
    if (puts.has(k) || intersectsPoint(dels, k)) throw Errors.duplicateKey;
    puts.add(k);
  }
  return { puts, dels };
}
