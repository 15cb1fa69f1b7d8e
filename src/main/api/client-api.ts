// The client API: etcd's gRPC services and HTTP endpoints on every --listen-client-urls address.
import type { MemberConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Member } from '../server/member.js';
import { ClusterService, GrpcServer, KVService, LeaseService, MaintenanceService } from './grpc/index.js';
import { httpEndpoints } from './http/endpoints.js';
import { clusterHandlers } from './services/cluster.js';
import { kvHandlers } from './services/kv.js';
import { leaseHandlers } from './services/lease.js';
import { maintenanceHandlers } from './services/maintenance.js';

/** etcd lets a gRPC message exceed --max-request-bytes by this much (framing and envelope). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface ClientApi {
  close(): Promise<void>;
}

export async function startClientApi(member: Member, config: MemberConfig, log: Logger): Promise<ClientApi> {
  const servers: GrpcServer[] = [];
  for (const url of config.listenClientUrls) {
    const { hostname, port } = new URL(url);
    const server = new GrpcServer({
      maxReceiveMessageBytes: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      onHttp: httpEndpoints(member),
    });
    server.addService(KVService, kvHandlers(member));
    server.addService(MaintenanceService, maintenanceHandlers(member));
    server.addService(ClusterService, clusterHandlers(member));
    server.addService(LeaseService, leaseHandlers(member));
    // Go binds "localhost" to IPv4 loopback; so do we, whatever the resolver prefers.
    const host = hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, '');
    await server.listen(host, Number(port));
    log.info({ address: url }, 'serving client traffic');
    servers.push(server);
  }
  return {
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
