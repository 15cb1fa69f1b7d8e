// A member: storage, the Raft loop and the state machine, with a clear lifecycle (start, close).
// Every write goes propose → Raft log (fsynced by the WAL thread) → apply; reads are
// linearizable through ReadIndex unless the client asks for a serializable read.
import { randomInt } from 'node:crypto';
import type { MemberConfig } from '../config/config.js';
import { Errors } from '../errors.js';
import type { Logger } from '../log.js';
import { RaftNode } from '../raft/node.js';
import type { Entry, RaftConfig, SoftState } from '../raft/types.js';
import { NONE, Role } from '../raft/types.js';
import { prepareDataDir, writeFormat, type DataDirLayout } from '../../storage/data-dir.js';
import { MvccStore, type RangeRequest, type RangeResponse, type TxnRequest, type TxnResponse } from '../../storage/mvcc/index.js';
import { StateStore, type Membership, type MemberRecord } from '../../storage/state/state-store.js';
import { WalStore } from '../../storage/wal/wal-store.js';
import { TSETCD_VERSION } from '../version.js';
import { Applier, type ApplyOutcome, type WriteResponse } from './applier.js';
import { clusterId, memberId } from './ids.js';
import { encodeInternalRequest, type WriteRequest } from './internal-request.js';
import { RaftLoop, type PeerTransport } from './raft-loop.js';
import { AppliedWaiters, ProposalWaiters } from './waiters.js';
import { WalClient } from './wal-client.js';

/** etcd's raft tuning: 1 MiB per append message, 512 messages in flight per follower. */
const MAX_SIZE_PER_MESSAGE = 1024 * 1024;
const MAX_INFLIGHT_MESSAGES = 512;
const MAX_UNCOMMITTED_BYTES = 256 * 1024 * 1024;
/** etcd keeps this many entries behind a snapshot for followers that are slightly behind. */
const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

export interface ResponseHeaderFields {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export interface MemberStatus {
  leader: bigint;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  dbSize: number;
  isLearner: boolean;
}

export class Member {
  private readonly proposals: ProposalWaiters<WriteResponse>;
  private readonly reads: AppliedWaiters;
  private sweeper: NodeJS.Timeout | undefined;
  private leaderChanges = 0;
  private closed = false;

  private constructor(
    readonly config: MemberConfig,
    readonly id: bigint,
    private membership: Membership,
    private readonly state: StateStore,
    readonly mvcc: MvccStore,
    private readonly wal: WalClient,
    private readonly loop: RaftLoop,
    private readonly log: Logger,
  ) {
    // etcd's request timeout: 5 s plus two election timeouts.
    const timeoutMs = 5000 + 2 * config.electionTimeoutMs;
    this.proposals = new ProposalWaiters(timeoutMs);
    this.reads = new AppliedWaiters(timeoutMs);
  }

  static async start(config: MemberConfig, log: Logger, transport: PeerTransport = noPeers): Promise<Member> {
    const { layout, existed } = prepareDataDir(config.dataDir);
    const state = StateStore.open(layout.stateDir);
    if (!existed) await bootstrap(config, layout, state);
    const membership = state.membership();
    if (membership === undefined) throw new Error(`data dir ${config.dataDir} has no membership record`);
    const self = membership.members.find((m) => m.name === config.name);
    if (self === undefined) throw new Error(`member ${config.name} is not in the cluster recorded in ${config.dataDir}`);
    const mvcc = MvccStore.open(state.env);

    const walStore = WalStore.open(layout.walDir);
    const durable = walStore.read();
    await walStore.close();
    const applied = state.applied().index;
    const raftConfig: RaftConfig = {
      id: self.id,
      electionTick: Math.max(1, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      heartbeatTick: 1,
      preVote: config.preVote,
      checkQuorum: true,
      maxInflightMessages: MAX_INFLIGHT_MESSAGES,
      maxSizePerMessage: MAX_SIZE_PER_MESSAGE,
      maxUncommittedSize: MAX_UNCOMMITTED_BYTES,
      random: (n) => randomInt(n),
    };
    if (durable.snapshot === undefined) throw new Error(`WAL in ${layout.walDir} has no initial configuration`);
    const raft = new RaftNode(raftConfig, {
      hardState: durable.hardState,
      snapshot: durable.snapshot,
      entries: durable.entries,
      applied,
    });

    let member: Member | undefined;
    const wal = new WalClient(layout.walDir, (err) => member?.fatal(err));
    const applier = new Applier(self.id, state, mvcc, {
      applyConfChange: () => {
        throw new Error('membership changes are not supported yet');
      },
    });
    const loop = new RaftLoop(
      raft,
      wal,
      transport,
      {
        applyEntries: (entries: readonly Entry[]) => applier.apply(entries, (id, o) => member?.deliver(id, o)),
        onSoftState: (s: SoftState) => member?.onSoftState(s),
        onApplied: (index: number) => member?.reads.applied(index),
        flushState: () => state.flushed(),
      },
      {
        tickMs: config.heartbeatIntervalMs,
        snapshotCount: config.snapshotCount,
        catchUpEntries: SNAPSHOT_CATCH_UP_ENTRIES,
      },
      log,
      applied,
      durable.snapshot.index,
    );
    member = new Member(config, self.id, membership, state, mvcc, wal, loop, log);
    member.begin(durable.snapshot.conf.voters.length === 1 && durable.snapshot.conf.voters[0] === self.id);
    return member;
  }

  get clusterId(): bigint {
    return this.membership.clusterId;
  }

  get members(): readonly MemberRecord[] {
    return this.membership.members;
  }

  get leader(): bigint {
    return this.loop.leader;
  }

  get leaderChangesSeen(): number {
    return this.leaderChanges;
  }

  header(revision: number = this.mvcc.currentRevision): ResponseHeaderFields {
    return { clusterId: this.membership.clusterId, memberId: this.id, revision, raftTerm: this.loop.term };
  }

  /** Proposes a write through Raft and resolves with its result once applied here. */
  write(request: WriteRequest): Promise<WriteResponse> {
    if (this.closed) return Promise.reject(Errors.stopped);
    const { id, done } = this.proposals.register();
    const data = encodeInternalRequest({ origin: this.id, id, request });
    if (data.length > this.config.maxRequestBytes) {
      this.proposals.reject(id, Errors.requestTooLarge);
    } else {
      this.loop.propose(data);
    }
    return done;
  }

  /** A range read: linearizable (ReadIndex) unless serializable. */
  async range(req: RangeRequest, serializable: boolean): Promise<{ revision: number; response: RangeResponse }> {
    if (!serializable) await this.linearizableBarrier();
    const response = this.mvcc.range(req);
    return { revision: this.mvcc.currentRevision, response };
  }

  /** A txn without writes: served here, like a read, without a Raft proposal (as etcd does). */
  async readTxn(req: TxnRequest, serializable: boolean): Promise<TxnResponse> {
    if (!serializable) await this.linearizableBarrier();
    return this.state.env.transactionSync(() => this.mvcc.txn(req));
  }

  /** Waits until this member has applied everything committed before the call. */
  async linearizableBarrier(): Promise<void> {
    if (this.closed) throw Errors.stopped;
    let index: number;
    try {
      index = await this.loop.readIndex();
    } catch {
      throw Errors.noLeader;
    }
    await this.reads.wait(index, this.loop.applied);
  }

  status(): MemberStatus {
    const st = this.loop.status();
    const self = this.membership.members.find((m) => m.id === this.id);
    return {
      leader: st.leader,
      raftIndex: st.lastIndex,
      raftTerm: st.term,
      raftAppliedIndex: this.loop.applied,
      dbSize: this.mvcc.dbSizeBytes(),
      isLearner: self?.isLearner ?? false,
    };
  }

  get version(): string {
    return TSETCD_VERSION;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.loop.stop();
    this.proposals.failAll(Errors.stopped);
    this.reads.failAll(Errors.stopped);
    await this.wal.close();
    await this.state.close();
  }

  private begin(singleVoter: boolean): void {
    this.loop.start();
    if (singleVoter) this.loop.campaign();
    this.sweeper = setInterval(() => {
      const now = Date.now();
      this.proposals.expire(now, Errors.timeout);
      this.reads.expire(now, Errors.timeout);
    }, 100);
    this.sweeper.unref();
  }

  private deliver(id: number, outcome: ApplyOutcome): void {
    if (outcome.ok) this.proposals.resolve(id, outcome.response);
    else this.proposals.reject(id, outcome.error);
  }

  private onSoftState(s: SoftState): void {
    if (s.leader !== NONE) this.leaderChanges++;
    this.log.info(
      { leader: s.leader.toString(16), role: s.role === Role.Leader ? 'leader' : 'follower', term: this.loop.term },
      s.leader === NONE ? 'lost leader' : 'elected leader',
    );
  }

  private fatal(err: Error): void {
    this.log.fatal({ err: err.message }, 'member cannot continue safely; exiting');
    process.exit(1);
  }
}

const noPeers: PeerTransport = { send: () => undefined };

/** First start of a new member: records the initial membership and Raft configuration, then the format. */
async function bootstrap(config: MemberConfig, layout: DataDirLayout, state: StateStore): Promise<void> {
  if (config.initialClusterState === 'existing') {
    throw new Error('--initial-cluster-state=existing needs a running cluster to join; not supported yet');
  }
  const members: MemberRecord[] = [...config.initialCluster].map(([name, peerUrls]) => ({
    id: memberId(peerUrls, config.initialClusterToken),
    name,
    peerUrls,
    clientUrls: name === config.name ? config.advertiseClientUrls : [],
    isLearner: false,
  }));
  const membership: Membership = { clusterId: clusterId(members.map((m) => m.id)), members };
  state.env.transactionSync(() => state.setMembership(membership));
  await state.flushed();
  const wal = WalStore.open(layout.walDir);
  wal.write([
    {
      hardState: { term: 0, vote: NONE, commit: 0 },
      snapshot: { index: 0, term: 0, conf: { voters: members.map((m) => m.id), learners: [] } },
    },
  ]);
  await wal.close();
  writeFormat(layout, `tsetcd ${TSETCD_VERSION}`);
}
