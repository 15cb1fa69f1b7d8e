// What the lock and election recipes need of a member: etcd runs them server-side with an
// in-process client, so each step is an ordinary request: writes proposed through Raft (a follower
// forwards them), linearizable reads, and watches on the member's own watch hub.
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '../../storage/mvcc/index.js';
import type { Member } from '../server/member.js';
import { LocalWatch, type LocalWatchOptions } from './local-watch.js';

export interface ConcurrencyBackend {
  /** A txn through Raft; `revision` is the header revision. */
  txn(req: TxnRequest): Promise<TxnResponse>;
  /** A linearizable range; `revision` is the header revision. */
  range(req: RangeRequest): Promise<RangeResponse>;
  /** Deletes one key through Raft; resolves with the header revision. */
  deleteKey(key: Buffer): Promise<number>;
  /** Grants a lease with a generated id. */
  grantLease(ttl: number): Promise<bigint>;
  watch(options: LocalWatchOptions): LocalWatch;
}

export function memberBackend(member: Member): ConcurrencyBackend {
  return {
    async txn(req) {
      const res = await member.write({ op: 'txn', txn: req });
      if (res.op !== 'txn') throw new Error('txn answered with ' + res.op);
      return { ...res.txn, revision: res.revision };
    },
    async range(req) {
      const { revision, response } = await member.range(req, false);
      return { ...response, revision };
    },
    async deleteKey(key) {
      const res = await member.write({ op: 'deleteRange', deleteRange: { key } });
      return res.revision;
    },
    async grantLease(ttl) {
      return (await member.leaseGrant(0n, ttl)).id;
    },
    watch: (options) => new LocalWatch(member.watch, options),
  };
}
