// lease-keepalive: each client holds one lease and one keepalive stream, and each operation is
// one keepalive round trip on it (as etcd's benchmark lease-keepalive does).

import type { KeepAliveStream } from '../transport.js';
import type { WorkloadFactory } from './workload.js';

/** Long enough that no lease expires during setup, however many clients grant one. */
const LEASE_TTL_SECONDS = 100;

export const leaseKeepAlive: WorkloadFactory = ({ plan, connections }) => {
  const leases: bigint[] = [];
  const streams: (KeepAliveStream | undefined)[] = [];
  const connectionOf = (client: number) => connections[client % connections.length]!;

  return {
    measures: 'operations',
    operationName: 'keepalives',

    async setup() {
      const clients = Array.from({ length: plan.clients }, (_, c) => c);
      leases.push(...(await Promise.all(clients.map((c) => connectionOf(c).leaseGrant(LEASE_TTL_SECONDS)))));
      streams.push(...(await Promise.all(clients.map((c) => connectionOf(c).openKeepAliveStream()))));
    },

    async operation(client) {
      // A stream that failed is opened again, which waits for the connection to come back,
      // rather than failing every following keepalive at once.
      const stream = (streams[client] ??= await connectionOf(client).openKeepAliveStream());
      let ttl: number;
      try {
        ttl = await stream.keepAlive(leases[client]!);
      } catch (e) {
        stream.close();
        streams[client] = undefined;
        throw e;
      }
      if (ttl <= 0) throw new Error('lease keepalive: lease not found');
    },

    drain: async () => {},

    async teardown() {
      for (const s of streams) s?.close();
      // Revoking is tidiness, not measurement: leases left behind expire on their own.
      await Promise.allSettled(leases.map((id, c) => connectionOf(c).leaseRevoke(id)));
    },
  };
};
