// v3lockpb.Lock: etcd's distributed mutex served by the member (main/concurrency/mutex.ts). Each
// step is an ordinary request (writes through Raft, linearizable reads, local watches), so a
// follower serves it too.
import { Errors } from '../../errors.js';
import { memberBackend } from '../../concurrency/backend.js';
import { asRecipeError } from '../../concurrency/errors.js';
import { lock } from '../../concurrency/mutex.js';
import type { Member } from '../../server/member.js';
import type { LockService } from '../grpc/etcd-services.js';
import type { CallContext, ServiceHandlers } from '../grpc/index.js';
import type { ConcurrencyBackend } from '../../concurrency/backend.js';

/** concurrency's defaultSessionTTL: a request without a lease gets one of this many seconds. */
const SESSION_TTL = 60;

/** etcd's NewSession(WithLease(lease)): a lease of 0 means "grant a new one". */
export async function sessionLease(b: ConcurrencyBackend, lease: bigint): Promise<bigint> {
  return lease !== 0n ? lease : b.grantLease(SESSION_TTL);
}

/** Runs one recipe call: its errors as etcd's in-process client reports them (code Unknown). */
export async function recipeCall<T>(call: CallContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (call.cancelled) throw call.signal.reason;
    throw asRecipeError(e);
  }
}

export function lockHandlers(member: Member): ServiceHandlers<typeof LockService> {
  const backend = memberBackend(member);
  return {
    Lock: (req, call) =>
      recipeCall(call, async () => {
        const lease = await sessionLease(backend, req.lease);
        const { key, revision } = await lock(backend, req.name, lease, call.signal);
        return { header: member.header(revision), key };
      }),

    Unlock: (req, call) =>
      recipeCall(call, async () => {
        if (req.key.length === 0) throw Errors.emptyKey;
        return { header: member.header(await backend.deleteKey(req.key)) };
      }),
  };
}
