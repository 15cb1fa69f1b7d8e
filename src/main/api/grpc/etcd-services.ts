// The etcd v3 services as tables of method kinds and codecs, for GrpcServer.addService.

import * as pb from '../proto/index.js';
import { bidi, serverStream, service, unary } from './service.js';

export const KVService = service('etcdserverpb.KV', {
  Range: unary(pb.RangeRequestCodec, pb.RangeResponseCodec),
  Put: unary(pb.PutRequestCodec, pb.PutResponseCodec),
  DeleteRange: unary(pb.DeleteRangeRequestCodec, pb.DeleteRangeResponseCodec),
  Txn: unary(pb.TxnRequestCodec, pb.TxnResponseCodec),
  Compact: unary(pb.CompactionRequestCodec, pb.CompactionResponseCodec),
});

export const WatchService = service('etcdserverpb.Watch', {
  Watch: bidi(pb.WatchRequestCodec, pb.WatchResponseCodec),
});

export const LeaseService = service('etcdserverpb.Lease', {
  LeaseGrant: unary(pb.LeaseGrantRequestCodec, pb.LeaseGrantResponseCodec),
  LeaseRevoke: unary(pb.LeaseRevokeRequestCodec, pb.LeaseRevokeResponseCodec),
  LeaseKeepAlive: bidi(pb.LeaseKeepAliveRequestCodec, pb.LeaseKeepAliveResponseCodec),
  LeaseTimeToLive: unary(pb.LeaseTimeToLiveRequestCodec, pb.LeaseTimeToLiveResponseCodec),
  LeaseLeases: unary(pb.LeaseLeasesRequestCodec, pb.LeaseLeasesResponseCodec),
});

export const ClusterService = service('etcdserverpb.Cluster', {
  MemberAdd: unary(pb.MemberAddRequestCodec, pb.MemberAddResponseCodec),
  MemberRemove: unary(pb.MemberRemoveRequestCodec, pb.MemberRemoveResponseCodec),
  MemberUpdate: unary(pb.MemberUpdateRequestCodec, pb.MemberUpdateResponseCodec),
  MemberList: unary(pb.MemberListRequestCodec, pb.MemberListResponseCodec),
  MemberPromote: unary(pb.MemberPromoteRequestCodec, pb.MemberPromoteResponseCodec),
});

export const MaintenanceService = service('etcdserverpb.Maintenance', {
  Alarm: unary(pb.AlarmRequestCodec, pb.AlarmResponseCodec),
  Status: unary(pb.StatusRequestCodec, pb.StatusResponseCodec),
  Defragment: unary(pb.DefragmentRequestCodec, pb.DefragmentResponseCodec),
  Hash: unary(pb.HashRequestCodec, pb.HashResponseCodec),
  HashKV: unary(pb.HashKVRequestCodec, pb.HashKVResponseCodec),
  Snapshot: serverStream(pb.SnapshotRequestCodec, pb.SnapshotResponseCodec),
  MoveLeader: unary(pb.MoveLeaderRequestCodec, pb.MoveLeaderResponseCodec),
  Downgrade: unary(pb.DowngradeRequestCodec, pb.DowngradeResponseCodec),
});

export const AuthService = service('etcdserverpb.Auth', {
  AuthEnable: unary(pb.AuthEnableRequestCodec, pb.AuthEnableResponseCodec),
  AuthDisable: unary(pb.AuthDisableRequestCodec, pb.AuthDisableResponseCodec),
  AuthStatus: unary(pb.AuthStatusRequestCodec, pb.AuthStatusResponseCodec),
  Authenticate: unary(pb.AuthenticateRequestCodec, pb.AuthenticateResponseCodec),
  UserAdd: unary(pb.AuthUserAddRequestCodec, pb.AuthUserAddResponseCodec),
  UserGet: unary(pb.AuthUserGetRequestCodec, pb.AuthUserGetResponseCodec),
  UserList: unary(pb.AuthUserListRequestCodec, pb.AuthUserListResponseCodec),
  UserDelete: unary(pb.AuthUserDeleteRequestCodec, pb.AuthUserDeleteResponseCodec),
  UserChangePassword: unary(pb.AuthUserChangePasswordRequestCodec, pb.AuthUserChangePasswordResponseCodec),
  UserGrantRole: unary(pb.AuthUserGrantRoleRequestCodec, pb.AuthUserGrantRoleResponseCodec),
  UserRevokeRole: unary(pb.AuthUserRevokeRoleRequestCodec, pb.AuthUserRevokeRoleResponseCodec),
  RoleAdd: unary(pb.AuthRoleAddRequestCodec, pb.AuthRoleAddResponseCodec),
  RoleGet: unary(pb.AuthRoleGetRequestCodec, pb.AuthRoleGetResponseCodec),
  RoleList: unary(pb.AuthRoleListRequestCodec, pb.AuthRoleListResponseCodec),
  RoleDelete: unary(pb.AuthRoleDeleteRequestCodec, pb.AuthRoleDeleteResponseCodec),
  RoleGrantPermission: unary(pb.AuthRoleGrantPermissionRequestCodec, pb.AuthRoleGrantPermissionResponseCodec),
  RoleRevokePermission: unary(pb.AuthRoleRevokePermissionRequestCodec, pb.AuthRoleRevokePermissionResponseCodec),
});

export const LockService = service('v3lockpb.Lock', {
  Lock: unary(pb.LockRequestCodec, pb.LockResponseCodec),
  Unlock: unary(pb.UnlockRequestCodec, pb.UnlockResponseCodec),
});

export const ElectionService = service('v3electionpb.Election', {
  Campaign: unary(pb.CampaignRequestCodec, pb.CampaignResponseCodec),
  Proclaim: unary(pb.ProclaimRequestCodec, pb.ProclaimResponseCodec),
  Leader: unary(pb.LeaderRequestCodec, pb.LeaderResponseCodec),
  Observe: serverStream(pb.LeaderRequestCodec, pb.LeaderResponseCodec),
  Resign: unary(pb.ResignRequestCodec, pb.ResignResponseCodec),
});

