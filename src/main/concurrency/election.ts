// etcd's leader election (clientv3/concurrency): campaigners queue as a mutex's contenders do, with
// their proposal as the key's value; the leader is the key under `<name>/` created first.
import type { KeyValue } from '../../storage/mvcc/index.js';
import { EventType } from '../api/proto/index.js';
import type { ConcurrencyBackend } from './backend.js';
import { ConcurrencyErrors } from './errors.js';
import { prefixEnd } from '../prefix-end.js';
import { contenderKey, contenderPrefix, createdAt, firstCreated, rangeKvs, waitDeletes } from './mutex.js';

export interface LeaderKey {
  name: Buffer;
  key: Buffer;
  /** The key's create revision: identifies this term of leadership. */
  rev: number;
  lease: bigint;
}

/**
 * Election.Campaign: resolves once the caller leads, with the revision of the campaign's txn (as
 * etcd's header). Campaigning again with the same lease resumes (and proclaims a new value). If
 * the wait fails because `signal` aborted, the caller resigns.
 */
export async function campaign(
  b: ConcurrencyBackend,
  name: Buffer,
  lease: bigint,
  value: Buffer,
  signal: AbortSignal,
): Promise<{ revision: number; leader: LeaderKey }> {
  const prefix = contenderPrefix(name);
  const key = contenderKey(prefix, lease);
  const res = await b.txn({
    compare: [createdAt(key, 0)],
    success: [{ put: { key, value, lease } }],
    failure: [{ range: { key } }],
  });
  const leader: LeaderKey = { name, key, rev: res.revision, lease };
  if (!res.succeeded) {
    const kv = rangeKvs(res, 0)[0]!;
    leader.rev = kv.createRevision;
    if (!kv.value.equals(value)) {
      try {
        await proclaim(b, leader, value);
      } catch (e) {
        await resign(b, leader).catch(() => undefined);
        throw e;
      }
    }
  }
  try {
    await waitDeletes(b, prefix, leader.rev - 1, signal);
  } catch (e) {
    if (signal.aborted) await resign(b, leader).catch(() => undefined);
    throw e;
  }
  return { revision: res.revision, leader };
}

/** Election.Proclaim: a new value, if `leader` still leads (its key has the same create revision). */
export async function proclaim(b: ConcurrencyBackend, leader: LeaderKey, value: Buffer): Promise<number> {
  const res = await b.txn({
    compare: [createdAt(leader.key, leader.rev)],
    success: [{ put: { key: leader.key, value, lease: leader.lease } }],
    failure: [],
  });
  if (!res.succeeded) throw ConcurrencyErrors.notLeader;
  return res.revision;
}

/** Election.Resign: deletes the leader's key if it is still that term's key; no error otherwise. */
export async function resign(b: ConcurrencyBackend, leader: LeaderKey): Promise<number> {
  const res = await b.txn({ compare: [createdAt(leader.key, leader.rev)], success: [{ deleteRange: { key: leader.key } }], failure: [] });
  return res.revision;
}

/** Election.Leader: the key created first, with the read's header revision. */
export async function currentLeader(b: ConcurrencyBackend, name: Buffer): Promise<{ revision: number; kv: KeyValue }> {
  const res = await b.range(firstCreated(contenderPrefix(name)));
  const kv = res.kvs[0];
  if (kv === undefined) throw ConcurrencyErrors.noLeader;
  return { revision: res.revision, kv };
}

/**
 * Election.Observe: the leader now (or, if none, the first one elected), then each of its new
 * values, then the next leader, and so on. Ends when a read or watch fails (etcd's observer
 * closes its channel) or when `signal` aborts.
 */
export async function* observe(b: ConcurrencyBackend, name: Buffer, signal: AbortSignal): AsyncGenerator<{ revision: number; kv: KeyValue }> {
  const prefix = contenderPrefix(name);
  for (;;) {
    if (signal.aborted) return;
    const res = await b.range(firstCreated(prefix));
    let kv = res.kvs[0];
    let revision = res.revision;
    if (kv === undefined) {
      // No leader: the first put under the prefix elects one.
      const watch = b.watch({ key: prefix, rangeEnd: prefixEnd(prefix), startRevision: res.revision });
      try {
        while (kv === undefined) {
          const put = (await watch.next(signal)).events.find((e) => e.type === EventType.PUT);
          if (put?.kv !== undefined) kv = put.kv;
        }
      } finally {
        watch.close();
      }
      revision = kv.modRevision;
    }
    yield { revision, kv };
    // The leader's new values, until its key goes.
    const watch = b.watch({ key: kv.key, startRevision: revision + 1 });
    try {
      for (let deleted = false; !deleted; ) {
        const wr = await watch.next(signal);
        for (const e of wr.events) {
          if (e.type === EventType.DELETE) {
            deleted = true;
            break;
          }
          if (e.kv !== undefined) yield { revision: wr.header?.revision ?? e.kv.modRevision, kv: e.kv };
        }
      }
    } finally {
      watch.close();
    }
  }
}
