// The client API: etcd's gRPC services and HTTP endpoints on every --listen-client-urls address,
// and HTTP only (the same endpoints and JSON gateway, plus the WebSocket API) on every
// --listen-client-http-urls address.
import type { MemberConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { MemberMetrics } from '../metrics/metrics.js';
import type { Member } from '../server/member.js';
import { ClusterService, ElectionService, GrpcServer, KVService, LeaseService, LockService, MaintenanceService } from './grpc/index.js';
import { JsonGateway } from './http/gateway/gateway.js';
import { listenHost } from './http/listen-host.js';
import { nodeHttpHandler } from './http/node-exchange.js';
import { httpRouter } from './http/router.js';
import { clusterHandlers } from './services/cluster.js';
import { electionHandlers } from './services/election.js';
import { kvHandlers } from './services/kv.js';
import { leaseHandlers } from './services/lease.js';
import { lockHandlers } from './services/lock.js';
import { maintenanceHandlers } from './services/maintenance.js';
import { watchHandlers, WatchStreamService } from './services/watch.js';
import { startHttpOnlyListeners } from './ws/http-only.js';

/** etcd lets a gRPC message exceed --max-request-bytes by this much (framing and envelope). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;
/** A gateway request body may be this many times the largest gRPC message (base64 and JSON). */
const JSON_EXPANSION = 4;

export interface ClientApi {
  close(): Promise<void>;
}

export async function startClientApi(member: Member, config: MemberConfig, log: Logger): Promise<ClientApi> {
  const maxMessageBytes = config.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const metrics = new MemberMetrics(member, { heartbeatMs: config.heartbeatIntervalMs, electionMs: config.electionTimeoutMs }, log);
  // As etcd's grpc-gateway, the JSON gateway calls this member's gRPC server over loopback.
  const gateway = new JsonGateway({ grpcUrl: loopbackUrl(config.listenClientUrls[0]!), maxBodyBytes: JSON_EXPANSION * maxMessageBytes });
  const route = httpRouter({ member, metrics, gateway });
  const servers: GrpcServer[] = [];
  for (const url of config.listenClientUrls) {
    const { port } = new URL(url);
    const server = new GrpcServer({ maxReceiveMessageBytes: maxMessageBytes, onHttp: nodeHttpHandler(route), observer: metrics.grpc });
    server.addService(KVService, kvHandlers(member));
    server.addService(MaintenanceService, maintenanceHandlers(member));
    server.addService(ClusterService, clusterHandlers(member));
    server.addService(LeaseService, leaseHandlers(member));
    server.addService(WatchStreamService, watchHandlers(member));
    server.addService(LockService, lockHandlers(member));
    server.addService(ElectionService, electionHandlers(member));
    metrics.grpc.register(server.registeredMethods());
    await server.listen(listenHost(url), Number(port));
    log.info({ address: url }, 'serving client traffic');
    servers.push(server);
  }
  const httpOnly = await startHttpOnlyListeners(config.listenClientHttpUrls, { member, route, log, maxMessageBytes });
  return {
    close: async () => {
      await httpOnly.close();
      await Promise.all(servers.map((s) => s.close()));
      await gateway.close();
      metrics.close();
    },
  };
}

/** Where this member's own gRPC server answers on loopback, from a --listen-client-urls address. */
function loopbackUrl(listenUrl: string): string {
  const host = listenHost(listenUrl);
  const port = new URL(listenUrl).port;
  if (host === '0.0.0.0') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
