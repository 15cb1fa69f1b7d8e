// The member's state machine on disk: one LMDB environment holding the MVCC store and, in the
// same transactions, the applied Raft index and the cluster membership. All writes go through the
// environment's DeferredWrites: held back for a few milliseconds, then issued in one event-loop
// turn, which lmdb-js commits as one transaction, so the applied index commits with the writes of
// the entries it covers. Durability comes from the WAL: after a crash, entries after the applied
// index are applied again.
import { open, type Database, type RootDatabase } from 'lmdb';
import { deferredWritesOf } from '../deferred-writes.js';
import { pack, unpack } from '../msgpack.js';

export interface MemberRecord {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface Membership {
  clusterId: bigint;
  members: MemberRecord[];
}

export interface AppliedState {
  index: number;
  term: number;
}

const APPLIED = 'applied';
const MEMBERSHIP = 'membership';

/** Values are read from LMDB once, at open; after that the latest written ones are kept here. */
export class StateStore {
  private constructor(
    readonly env: RootDatabase,
    private readonly meta: Database<Buffer, string>,
    private appliedNow: AppliedState,
    private membershipNow: Membership | undefined,
    private readonly leaseDb: Database<Buffer, Buffer>,
    private readonly writes = deferredWritesOf(env),
  ) {}

  static open(path: string): StateStore {
    // overlappingSync: commits are visible at once and flushed in the background; LMDB keeps the
    // database intact across crashes, and the WAL replays whatever the flush had not reached.
    const env = open({ path, overlappingSync: true, maxDbs: 16 });
    const meta = env.openDB<Buffer, string>({ name: 'member-meta', encoding: 'binary' });
    const leaseDb = env.openDB<Buffer, Buffer>({ name: 'leases', encoding: 'binary', keyEncoding: 'binary' });
    const applied = meta.get(APPLIED);
    const membership = meta.get(MEMBERSHIP);
    return new StateStore(
      env,
      meta,
      applied === undefined ? { index: 0, term: 0 } : unpack<AppliedState>(applied),
      membership === undefined ? undefined : unpack<Membership>(membership),
      leaseDb,
    );
  }

  /** Every granted lease and its TTL (seconds), as LMDB holds them: read at start only. */
  leases(): Map<bigint, number> {
    const out = new Map<bigint, number>();
    for (const { key, value } of this.leaseDb.getRange()) out.set(key.readBigUInt64BE(0), value.readDoubleBE(0));
    return out;
  }

  putLease(id: bigint, ttl: number): void {
    const key = Buffer.alloc(8);
    key.writeBigUInt64BE(id);
    const value = Buffer.alloc(8);
    value.writeDoubleBE(ttl);
    void this.writes.put(this.leaseDb, key, value);
  }

  removeLease(id: bigint): void {
    const key = Buffer.alloc(8);
    key.writeBigUInt64BE(id);
    void this.writes.remove(this.leaseDb, key);
  }

  applied(): AppliedState {
    return this.appliedNow;
  }

  /** In the same turn as the writes of the entries it covers. */
  setApplied(state: AppliedState): void {
    this.appliedNow = state;
    void this.writes.put(this.meta, APPLIED, pack(state));
  }

  membership(): Membership | undefined {
    return this.membershipNow;
  }

  setMembership(m: Membership): void {
    this.membershipNow = m;
    void this.writes.put(this.meta, MEMBERSHIP, pack(m));
  }

  /** Close only once every write is committed (see StateMachine.close): lmdb-js must not have writes in flight. */
  close(): Promise<void> {
    return this.env.close();
  }
}
