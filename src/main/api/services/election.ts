// v3electionpb.Election: etcd's leader election served by the member (main/concurrency/election.ts),
// with etcd's answers: errors with code Unknown, a lease of 0 granting a session lease.
import { memberBackend } from '../../concurrency/backend.js';
import { campaign, currentLeader, observe, proclaim, resign } from '../../concurrency/election.js';
import { ConcurrencyErrors } from '../../concurrency/errors.js';
import { Errors } from '../../errors.js';
import type { Member } from '../../server/member.js';
import type { ElectionService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';
import type { LeaderKey } from '../proto/index.js';
import { recipeCall, sessionLease } from './lock.js';

function requireLeader(leader: LeaderKey | undefined): LeaderKey {
  if (leader === undefined) throw ConcurrencyErrors.missingLeaderKey;
  if (leader.key.length === 0) throw Errors.emptyKey;
  return leader;
}

export function electionHandlers(member: Member): ServiceHandlers<typeof ElectionService> {
  const backend = memberBackend(member);
  return {
    Campaign: (req, call) =>
      recipeCall(call, async () => {
        const lease = await sessionLease(backend, req.lease);
        const { revision, leader } = await campaign(backend, req.name, lease, req.value, call.signal);
        return { header: member.header(revision), leader };
      }),

    Proclaim: (req, call) =>
      recipeCall(call, async () => {
        const leader = requireLeader(req.leader);
        const lease = await sessionLease(backend, leader.lease);
        return { header: member.header(await proclaim(backend, { ...leader, lease }, req.value)) };
      }),

    Leader: (req, call) =>
      recipeCall(call, async () => {
        const { revision, kv } = await currentLeader(backend, req.name);
        return { header: member.header(revision), kv };
      }),

    async Observe(req, call) {
      try {
        for await (const { revision, kv } of observe(backend, req.name, call.signal)) {
          if (!call.write({ header: member.header(revision), kv })) await call.drained();
        }
      } catch (e) {
        // As etcd's: a failed read or watch ends the observation, without an error.
        if (call.cancelled) throw call.signal.reason;
      }
    },

    Resign: (req, call) =>
      recipeCall(call, async () => {
        const leader = requireLeader(req.leader);
        const lease = await sessionLease(backend, leader.lease);
        return { header: member.header(await resign(backend, { ...leader, lease })) };
      }),
  };
}
