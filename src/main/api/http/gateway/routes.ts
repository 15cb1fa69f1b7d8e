// The JSON gateway's routes: etcd 3.4's HTTP paths (from its rpc.proto http annotations) to the
// gRPC methods they call, with the request and response types from the project's .proto files.
import path from 'node:path';
import protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../../../version.js';
import {
  AuthService, ClusterService, ElectionService, KVService, LeaseService, LockService, MaintenanceService, WatchService,
} from '../../grpc/etcd-services.js';
import { grpcMethod, type GrpcMethod } from '../../grpc/client.js';
import type { MethodKind, ServiceDefinition } from '../../grpc/service.js';

export interface GatewayRoute {
  /** The gRPC method the route calls. */
  readonly method: GrpcMethod<unknown, unknown>;
  readonly kind: MethodKind;
  readonly request: protobuf.Type;
  readonly response: protobuf.Type;
}

type Binding = readonly [httpPath: string, service: ServiceDefinition, method: string];

const BINDINGS: readonly Binding[] = [
  ['/v3/kv/range', KVService, 'Range'],
  ['/v3/kv/put', KVService, 'Put'],
  ['/v3/kv/deleterange', KVService, 'DeleteRange'],
  ['/v3/kv/txn', KVService, 'Txn'],
  ['/v3/kv/compaction', KVService, 'Compact'],
  ['/v3/watch', WatchService, 'Watch'],
  ['/v3/lease/grant', LeaseService, 'LeaseGrant'],
  ['/v3/lease/revoke', LeaseService, 'LeaseRevoke'],
  ['/v3/kv/lease/revoke', LeaseService, 'LeaseRevoke'],
  ['/v3/lease/keepalive', LeaseService, 'LeaseKeepAlive'],
  ['/v3/lease/timetolive', LeaseService, 'LeaseTimeToLive'],
  ['/v3/kv/lease/timetolive', LeaseService, 'LeaseTimeToLive'],
  ['/v3/lease/leases', LeaseService, 'LeaseLeases'],
  ['/v3/kv/lease/leases', LeaseService, 'LeaseLeases'],
  ['/v3/cluster/member/add', ClusterService, 'MemberAdd'],
  ['/v3/cluster/member/remove', ClusterService, 'MemberRemove'],
  ['/v3/cluster/member/update', ClusterService, 'MemberUpdate'],
  ['/v3/cluster/member/list', ClusterService, 'MemberList'],
  ['/v3/cluster/member/promote', ClusterService, 'MemberPromote'],
  ['/v3/maintenance/alarm', MaintenanceService, 'Alarm'],
  ['/v3/maintenance/status', MaintenanceService, 'Status'],
  ['/v3/maintenance/defragment', MaintenanceService, 'Defragment'],
  // Hash and HashKV share this path in etcd's annotations; etcd's gateway serves Hash.
  ['/v3/maintenance/hash', MaintenanceService, 'Hash'],
  ['/v3/maintenance/snapshot', MaintenanceService, 'Snapshot'],
  ['/v3/maintenance/transfer-leadership', MaintenanceService, 'MoveLeader'],
  ['/v3/auth/enable', AuthService, 'AuthEnable'],
  ['/v3/auth/disable', AuthService, 'AuthDisable'],
  ['/v3/auth/authenticate', AuthService, 'Authenticate'],
  ['/v3/auth/user/add', AuthService, 'UserAdd'],
  ['/v3/auth/user/get', AuthService, 'UserGet'],
  ['/v3/auth/user/list', AuthService, 'UserList'],
  ['/v3/auth/user/delete', AuthService, 'UserDelete'],
  ['/v3/auth/user/changepw', AuthService, 'UserChangePassword'],
  ['/v3/auth/user/grant', AuthService, 'UserGrantRole'],
  ['/v3/auth/user/revoke', AuthService, 'UserRevokeRole'],
  ['/v3/auth/role/add', AuthService, 'RoleAdd'],
  ['/v3/auth/role/get', AuthService, 'RoleGet'],
  ['/v3/auth/role/list', AuthService, 'RoleList'],
  ['/v3/auth/role/delete', AuthService, 'RoleDelete'],
  ['/v3/auth/role/grant', AuthService, 'RoleGrantPermission'],
  ['/v3/auth/role/revoke', AuthService, 'RoleRevokePermission'],
  ['/v3/lock/lock', LockService, 'Lock'],
  ['/v3/lock/unlock', LockService, 'Unlock'],
  ['/v3/election/campaign', ElectionService, 'Campaign'],
  ['/v3/election/proclaim', ElectionService, 'Proclaim'],
  ['/v3/election/leader', ElectionService, 'Leader'],
  ['/v3/election/observe', ElectionService, 'Observe'],
  ['/v3/election/resign', ElectionService, 'Resign'],
];

const PROTO_FILES = ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'];

/** Builds the route table once, loading the .proto files with field names as written. */
export function loadRoutes(): ReadonlyMap<string, GatewayRoute> {
  const root = new protobuf.Root();
  const dir = path.join(PACKAGE_ROOT, 'proto');
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  const routes = new Map<string, GatewayRoute>();
  for (const [httpPath, service, method] of BINDINGS) {
    const definition = service.methods[method];
    if (definition === undefined) throw new Error(`gateway: ${service.name} has no method ${method}`);
    routes.set(httpPath, {
      method: grpcMethod(service, method),
      kind: definition.kind,
      request: root.lookupType(definition.request.name),
      response: root.lookupType(definition.response.name),
    });
  }
  return routes;
}
