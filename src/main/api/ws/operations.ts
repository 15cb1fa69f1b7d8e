// The WebSocket API's KV and lease operations: the gRPC service handlers called in-process (no
// gRPC hop), so a request gets exactly etcd's validation, errors and response.
import type { Member } from '../../server/member.js';
import type { CallContext } from '../grpc/service.js';
import type { Init } from '../proto/index.js';
import { kvHandlers } from '../services/kv.js';
import { leaseHandlers } from '../services/lease.js';
import type { WsOps } from './protocol.js';

type UnaryOp = Exclude<keyof WsOps, 'watchCreate' | 'watchCancel'>;

export type WsOperations = {
  readonly [O in UnaryOp]: (req: WsOps[O]['req']) => Init<WsOps[O]['res']> | Promise<Init<WsOps[O]['res']>>;
};

/** What the handlers see of the call: nothing here depends on it. */
const CONTEXT: CallContext = {
  path: '/ws',
  metadata: {},
  deadline: undefined,
  signal: new AbortController().signal,
  cancelled: false,
};

export function wsOperations(member: Member): WsOperations {
  const kv = kvHandlers(member);
  const lease = leaseHandlers(member);
  const Put = present(kv.Put, 'Put');
  const Range = present(kv.Range, 'Range');
  const DeleteRange = present(kv.DeleteRange, 'DeleteRange');
  const Txn = present(kv.Txn, 'Txn');
  const Compact = present(kv.Compact, 'Compact');
  const LeaseGrant = present(lease.LeaseGrant, 'LeaseGrant');
  const LeaseRevoke = present(lease.LeaseRevoke, 'LeaseRevoke');
  const LeaseTimeToLive = present(lease.LeaseTimeToLive, 'LeaseTimeToLive');
  return {
    put: (req) => Put(req, CONTEXT),
    range: (req) => Range(req, CONTEXT),
    deleteRange: (req) => DeleteRange(req, CONTEXT),
    txn: (req) => Txn(req, CONTEXT),
    compact: (req) => Compact(req, CONTEXT),
    leaseGrant: (req) => LeaseGrant(req, CONTEXT),
    leaseRevoke: (req) => LeaseRevoke(req, CONTEXT),
    leaseTimeToLive: (req) => LeaseTimeToLive(req, CONTEXT),
    // gRPC's LeaseKeepAlive is a stream; one round of it, as its handler does each round: the
    // header is taken before the renewal.
    leaseKeepAlive: async (req) => {
      const header = member.header();
      return { header, ID: req.ID, TTL: await member.leaseRenew(req.ID) };
    },
  };
}

function present<T>(handler: T | undefined, name: string): T {
  if (handler === undefined) throw new Error(`the ${name} handler is missing`);
  return handler;
}
