// etcd's distributed mutex (clientv3/concurrency): each contender puts `<name>/<lease hex>` with its
// lease; the key with the smallest create revision holds the lock; the others wait, each for the
// deletion of the last key created before its own.
import { CompareResult, CompareTarget, SortOrder, SortTarget, type RangeRequest, type TxnResponse } from '../../storage/mvcc/index.js';
import type { KeyValue } from '../../storage/mvcc/index.js';
import { EventType } from '../api/proto/index.js';
import { prefixEnd } from '../prefix-end.js';
import type { ConcurrencyBackend } from './backend.js';

const SLASH = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

/** `<name>/`: the keys of every contender. */
export function contenderPrefix(name: Buffer): Buffer {
  return Buffer.concat([name, SLASH]);
}

/** A contender's key: the prefix and its lease id in hex (Go's %x: "-1" for -1). */
export function contenderKey(prefix: Buffer, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(lease.toString(16))]);
}


/** The key under `prefix` created first (etcd's WithFirstCreate). */
export function firstCreated(prefix: Buffer): RangeRequest {
  return { key: prefix, rangeEnd: prefixEnd(prefix), sortTarget: SortTarget.Create, sortOrder: SortOrder.Ascend, limit: 1 };
}

/** `compare create_revision(key) = revision` */
export function createdAt(key: Buffer, revision: number) {
  return { result: CompareResult.Equal, target: CompareTarget.Create, key, createRevision: revision };
}

export function rangeKvs(res: TxnResponse, i: number): KeyValue[] {
  const op = res.responses[i];
  if (op === undefined || !('range' in op)) throw new Error(`txn response ${i} is not a range`);
  return op.range.kvs;
}

export interface Locked {
  key: Buffer;
  /** The header revision: of the txn that found the lock free, or of the read that saw it freed. */
  revision: number;
}

/**
 * concurrency.Mutex.Lock with the session's lease `lease`: resolves once the lock is held. If the
 * wait fails (or `signal` aborts), the contender's key is deleted before the error is thrown.
 */
export async function lock(b: ConcurrencyBackend, name: Buffer, lease: bigint, signal: AbortSignal): Promise<Locked> {
  const prefix = contenderPrefix(name);
  const key = contenderKey(prefix, lease);
  const owner = firstCreated(prefix);
  // Enter the queue (or find this lease already in it), and see the owner in the same revision.
  const res = await b.txn({
    compare: [createdAt(key, 0)],
    success: [{ put: { key, value: EMPTY, lease } }, { range: owner }],
    failure: [{ range: { key } }, { range: owner }],
  });
  const myRev = res.succeeded ? res.revision : rangeKvs(res, 0)[0]!.createRevision;
  const first = rangeKvs(res, 1)[0];
  if (first === undefined || first.createRevision === myRev) return { key, revision: res.revision };
  try {
    return { key, revision: await waitDeletes(b, prefix, myRev - 1, signal) };
  } catch (e) {
    await b.deleteKey(key).catch(() => undefined);
    throw e;
  }
}

/**
 * etcd's waitDeletes: until no key under `prefix` has a create revision up to `maxCreateRev`, wait
 * for the deletion of the newest such key. Resolves with the header revision of the last read.
 */
export async function waitDeletes(b: ConcurrencyBackend, prefix: Buffer, maxCreateRev: number, signal: AbortSignal): Promise<number> {
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const newest = await b.range({
      key: prefix,
      rangeEnd: prefixEnd(prefix),
      sortTarget: SortTarget.Create,
      sortOrder: SortOrder.Descend,
      limit: 1,
      maxCreateRevision: maxCreateRev,
    });
    const last = newest.kvs[0];
    if (last === undefined) return newest.revision;
    await waitDelete(b, last.key, newest.revision, signal);
  }
}

/** Watches `key` from `revision` until an event deletes it. */
async function waitDelete(b: ConcurrencyBackend, key: Buffer, revision: number, signal: AbortSignal): Promise<void> {
  const watch = b.watch({ key, startRevision: revision });
  try {
    for (;;) {
      const res = await watch.next(signal);
      if (res.events.some((e) => e.type === EventType.DELETE)) return;
    }
  } finally {
    watch.close();
  }
}
