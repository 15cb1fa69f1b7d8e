// The member's state machine on disk: one LMDB environment holding the MVCC store and, in the
// same transactions, the applied Raft index and the cluster membership. Durability comes from
// the WAL: after a crash, entries after the applied index are applied again.
import { open, type Database, type RootDatabase } from 'lmdb';
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

export class StateStore {
  private constructor(
    readonly env: RootDatabase,
    private readonly meta: Database<Buffer, string>,
  ) {}

  static open(path: string): StateStore {
    // overlappingSync: commits are visible at once and flushed in the background; LMDB keeps the
    // database intact across crashes, and the WAL replays whatever the flush had not reached.
    const env = open({ path, overlappingSync: true, maxDbs: 16 });
    const meta = env.openDB<Buffer, string>({ name: 'member-meta', encoding: 'binary' });
    return new StateStore(env, meta);
  }

  applied(): AppliedState {
    const buf = this.meta.get(APPLIED);
    return buf === undefined ? { index: 0, term: 0 } : unpack<AppliedState>(buf);
  }

  /** Call inside env.transactionSync, with the writes of the entries it covers. */
  setApplied(state: AppliedState): void {
    this.meta.putSync(APPLIED, pack(state));
  }

  membership(): Membership | undefined {
    const buf = this.meta.get(MEMBERSHIP);
    return buf === undefined ? undefined : unpack<Membership>(buf);
  }

  /** Call inside env.transactionSync. */
  setMembership(m: Membership): void {
    this.meta.putSync(MEMBERSHIP, pack(m));
  }

  /** Resolves once every commit so far is on disk (before the WAL may forget the entries behind it). */
  flushed(): Promise<void> {
    return Promise.resolve(this.env.flushed).then(() => undefined);
  }

  close(): Promise<void> {
    return this.env.close();
  }
}
