// Errors as etcd returns them: a gRPC status code and a message, byte for byte.
// Every layer throws these typed values; the API layer maps them to the wire in one place.

export const enum GrpcCode {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/** A gRPC status error. `message` is what the client sees as grpc-message. */
export class GrpcError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

const err = (code: GrpcCode, message: string) => new GrpcError(code, message);

/** etcd's server-side errors (etcdserver/api/v3rpc/rpctypes). Shared instances: never mutate. */
export const Errors = {
  emptyKey: err(GrpcCode.InvalidArgument, 'etcdserver: key is not provided'),
  keyNotFound: err(GrpcCode.InvalidArgument, 'etcdserver: key not found'),
  valueProvided: err(GrpcCode.InvalidArgument, 'etcdserver: value is provided'),
  leaseProvided: err(GrpcCode.InvalidArgument, 'etcdserver: lease is provided'),
  tooManyOps: err(GrpcCode.InvalidArgument, 'etcdserver: too many operations in txn request'),
  duplicateKey: err(GrpcCode.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  compacted: err(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: err(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: err(GrpcCode.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),

  leaseNotFound: err(GrpcCode.NotFound, 'etcdserver: requested lease not found'),
  leaseExist: err(GrpcCode.FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: err(GrpcCode.OutOfRange, 'etcdserver: too large lease TTL'),

  watchCanceled: err(GrpcCode.Canceled, 'etcdserver: watch canceled'),

  memberExist: err(GrpcCode.FailedPrecondition, 'etcdserver: member ID already exist'),
  peerURLExist: err(GrpcCode.FailedPrecondition, 'etcdserver: Peer URLs already exists'),
  memberNotEnoughStarted: err(
    GrpcCode.FailedPrecondition,
    'etcdserver: re-configuration failed due to not enough started members',
  ),
  memberBadURLs: err(GrpcCode.InvalidArgument, 'etcdserver: given member URLs are invalid'),
  memberNotFound: err(GrpcCode.NotFound, 'etcdserver: member not found'),
  memberNotLearner: err(GrpcCode.FailedPrecondition, 'etcdserver: can only promote a learner member'),
  learnerNotReady: err(
    GrpcCode.FailedPrecondition,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ),
  tooManyLearners: err(GrpcCode.FailedPrecondition, 'etcdserver: too many learner members in cluster'),

  requestTooLarge: err(GrpcCode.InvalidArgument, 'etcdserver: request is too large'),
  tooManyRequests: err(GrpcCode.ResourceExhausted, 'etcdserver: too many requests'),

  permissionDenied: err(GrpcCode.PermissionDenied, 'etcdserver: permission denied'),
  authNotEnabled: err(GrpcCode.FailedPrecondition, 'etcdserver: authentication is not enabled'),

  noLeader: err(GrpcCode.Unavailable, 'etcdserver: no leader'),
  notLeader: err(GrpcCode.FailedPrecondition, 'etcdserver: not leader'),
  leaderChanged: err(GrpcCode.Unavailable, 'etcdserver: leader changed'),
  stopped: err(GrpcCode.Unavailable, 'etcdserver: server stopped'),
  timeout: err(GrpcCode.Unavailable, 'etcdserver: request timed out'),
  timeoutDueToLeaderFail: err(
    GrpcCode.Unavailable,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ),
  timeoutWaitAppliedIndex: err(
    GrpcCode.Unavailable,
    'etcdserver: request timed out, waiting for the applied index took too long',
  ),
  unhealthy: err(GrpcCode.Unavailable, 'etcdserver: unhealthy cluster'),
  corrupt: err(GrpcCode.DataLoss, 'etcdserver: corrupt cluster'),
  notSupportedForLearner: err(GrpcCode.Unavailable, 'etcdserver: rpc not supported for learner'),
  badLeaderTransferee: err(GrpcCode.FailedPrecondition, 'etcdserver: bad leader transferee'),
} as const;

/** Maps anything thrown by a handler to a status for the wire. Unknown errors become Unknown with their message. */
export function toGrpcError(e: unknown): GrpcError {
  if (e instanceof GrpcError) return e;
  if (e instanceof Error) return new GrpcError(GrpcCode.Unknown, e.message);
  return new GrpcError(GrpcCode.Unknown, String(e));
}
