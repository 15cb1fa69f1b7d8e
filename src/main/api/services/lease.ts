// etcdserverpb.Lease: grant and revoke through Raft; keepalive and time-to-live answered by the
// leader (a follower forwards them), as etcd does.
import type { Member } from '../../server/member.js';
import type { LeaseService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';

export function leaseHandlers(member: Member): ServiceHandlers<typeof LeaseService> {
  return {
    async LeaseGrant(req) {
      const { id, ttl } = await member.leaseGrant(req.ID, req.TTL);
      return { header: member.header(), ID: id, TTL: ttl, error: '' };
    },

    async LeaseRevoke(req) {
      const revision = await member.leaseRevoke(req.ID);
      return { header: member.header(revision) };
    },

    async LeaseKeepAlive(call) {
      for await (const req of call) {
        // The header is taken before the renewal, as etcd takes it (a revoke can't look older).
        const header = member.header();
        const ttl = await member.leaseRenew(req.ID);
        if (!call.write({ header, ID: req.ID, TTL: ttl })) await call.drained();
      }
    },

    async LeaseTimeToLive(req) {
      const header = member.header();
      const r = await member.leaseTimeToLive(req.ID, req.keys);
      return { header, ID: req.ID, TTL: r.ttl, grantedTTL: r.grantedTtl, keys: r.keys };
    },

    LeaseLeases() {
      return { header: member.header(), leases: member.leases().map((ID) => ({ ID })) };
    },
  };
}
