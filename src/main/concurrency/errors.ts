// The lock and election services' errors, as etcd returns them. etcd serves these services with an
// in-process client: every error reaches the caller as a plain error (gRPC code Unknown) with the
// message of the underlying one, e.g. "etcdserver: requested lease not found".
import { GrpcCode, GrpcError } from '../errors.js';

export const ConcurrencyErrors = {
  /** concurrency.ErrElectionNotLeader */
  notLeader: new GrpcError(GrpcCode.Unknown, 'election: not leader'),
  /** concurrency.ErrElectionNoLeader */
  noLeader: new GrpcError(GrpcCode.Unknown, 'election: no leader'),
  /** v3election.ErrMissingLeaderKey */
  missingLeaderKey: new GrpcError(GrpcCode.Unknown, '"leader" field must be provided'),
} as const;

/** An error from a step of a recipe as the client sees it: code Unknown, the same message. */
export function asRecipeError(e: unknown): GrpcError {
  if (e instanceof GrpcError) return e.code === GrpcCode.Unknown ? e : new GrpcError(GrpcCode.Unknown, e.message);
  return new GrpcError(GrpcCode.Unknown, e instanceof Error ? e.message : String(e));
}
