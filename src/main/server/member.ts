// A member: storage, the Raft loop, the peer transport and the state machine, with a clear
// lifecycle (start, close). Every write goes propose → Raft log (fsynced by the WAL thread) →
// apply; reads are linearizable through ReadIndex unless the client asks for a serializable read.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MemberConfig } from '../config/config.js';
import { Errors } from '../errors.js';
import { failpoint } from '../failpoints.js';
import type { Logger } from '../log.js';
import { fetchMembership } from '../peer/membership-query.js';
import { snapshotFileName } from '../peer/snapshot-stream.js';
import { PeerTransport } from '../peer/transport.js';
import { ProposalDropped, RaftNode } from '../raft/node.js';
import type { ConfChangeType, Message, NodeId, RaftConfig, SnapshotMeta, SoftState } from '../raft/types.js';
import { NONE, Role } from '../raft/types.js';
import { prepareDataDir, writeFormat, type DataDirLayout } from '../../storage/data-dir.js';
import type { MvccStore, RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '../../storage/mvcc/index.js';
import type { Membership, MemberRecord } from '../../storage/state/state-store.js';
import { WalStore } from '../../storage/wal/wal-store.js';
import { TSETCD_VERSION } from '../version.js';
import { LeaseForwarder } from '../lease/forwarder.js';
import { Lessor, minLeaseTtl } from '../lease/lessor.js';
import { Applier, keysOfLease, type ApplyOutcome, type WriteResponse } from './applier.js';
import { clusterId, idHex, memberId } from './ids.js';
import {
  encodeConfChange,
  encodeInternalRequest,
  type ConfChangeRequest,
  type WriteRequest,
} from './internal-request.js';
import { RaftLoop } from './raft-loop.js';
import { StateMachine } from './state-machine.js';
import { AppliedWaiters, ProposalWaiters } from './waiters.js';
import { WalClient, type WalStats } from './wal-client.js';
import { WatchHub } from '../watch/hub.js';

/** etcd's raft tuning: 1 MiB per append message, 512 messages in flight per follower. */
const MAX_SIZE_PER_MESSAGE = 1024 * 1024;
const MAX_INFLIGHT_MESSAGES = 512;
const MAX_UNCOMMITTED_BYTES = 256 * 1024 * 1024;
/** The leader looks for expired leases this often and revokes at most this many per look (etcd: 1000/s). */
const LEASE_CHECK_MS = 500;
const LEASE_REVOKES_PER_CHECK = 500;

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
  private readonly proposals: ProposalWaiters<WriteResponse, WriteRequest | undefined>;
  private readonly reads: AppliedWaiters;
  private sweeper: NodeJS.Timeout | undefined;
  private publisher: NodeJS.Timeout | undefined;
  private leaderChanges = 0;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** Leases whose expiry revoke is in flight, so it is proposed once. */
  private readonly revoking = new Set<bigint>();
  private readonly leaseForwarder = new LeaseForwarder();
  /** Lease ids generated here: etcd's request-id layout (member id bits, time, counter). */
  private leaseIdCounter = 0;
  private lastLeader: NodeId = NONE;
  /** When this member last lost its leader: a proposal timing out soon after blames the failure. */
  private leaderLostAt = 0;
  private closed = false;
  private membershipNow: Membership;
  /** Snapshot files received from the leader, by Raft snapshot index, until Raft installs them. */
  private readonly receivedSnapshots = new Map<number, string>();
  private loopRef: RaftLoop | undefined;
  private markReady: () => void = () => undefined;
  /** Resolves once this member has a leader and its attributes are published (etcd's ReadyNotify). */
  readonly ready: Promise<void> = new Promise((resolve) => {
    this.markReady = resolve;
  });
  private transportRef: PeerTransport | undefined;
  private watchHubRef: WatchHub | undefined;

  private constructor(
    readonly config: MemberConfig,
    readonly id: bigint,
    private readonly layout: DataDirLayout,
    private readonly sm: StateMachine,
    private readonly wal: WalClient,
    private readonly lessor: Lessor,
    private readonly log: Logger,
  ) {
    // etcd's request timeout: 5 s plus two election timeouts.
    const timeoutMs = 5000 + 2 * config.electionTimeoutMs;
    this.proposals = new ProposalWaiters(timeoutMs);
    this.reads = new AppliedWaiters(timeoutMs);
    this.membershipNow = sm.membership();
  }

  static async start(config: MemberConfig, log: Logger): Promise<Member> {
    const { layout, existed } = prepareDataDir(config.dataDir);
    if (!existed) await bootstrap(config, layout, log);
    const sm = StateMachine.open(layout.stateDir);
    const walStore = WalStore.open(layout.walDir);
    const durable = walStore.read();
    await walStore.close();
    if (durable.snapshot === undefined) throw new Error(`WAL in ${layout.walDir} has no initial configuration`);
    await installPendingSnapshot(sm, durable.snapshot.index, layout.snapDir, log);
    const membership = sm.membership();
    const self = membership.members.find((m) => m.name === config.name) ?? findByPeerUrls(membership, config);
    if (self === undefined) throw new Error(`member ${config.name} is not in the cluster recorded in ${config.dataDir}`);

    const stateApplied = sm.state.applied().index;
    // The state may be ahead of the Raft log (a snapshot from the leader); Raft restarts from what
    // its log covers and the applier skips entries the state already holds.
    const applied = Math.max(
      durable.snapshot.index,
      Math.min(stateApplied, durable.hardState.commit),
    );
    const raftConfig: RaftConfig = {
      id: self.id,
      electionTick: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      heartbeatTick: 1,
      preVote: config.preVote,
      checkQuorum: true,
      maxInflightMessages: MAX_INFLIGHT_MESSAGES,
      maxSizePerMessage: MAX_SIZE_PER_MESSAGE,
      maxUncommittedSize: MAX_UNCOMMITTED_BYTES,
      random: (n) => randomInt(n),
    };
    const raft = new RaftNode(raftConfig, {
      hardState: durable.hardState,
      snapshot: durable.snapshot,
      entries: durable.entries,
      applied,
      conf: confStateOf(membership),
    });

    const lessor = new Lessor(minLeaseTtl(config.electionTimeoutMs));
    lessor.restore(sm.state.leases(), Date.now());
    let member: Member | undefined;
    const wal = new WalClient(layout.walDir, (err) => member?.fatal(err));
    const m = new Member(config, self.id, layout, sm, wal, lessor, log);
    member = m;
    const transport = new PeerTransport({
      selfId: self.id,
      clusterId: membership.clusterId,
      listenUrls: config.listenPeerUrls,
      peers: new Map(membership.members.filter((p) => p.id !== self.id).map((p) => [p.id, p.peerUrls])),
      onMessage: (msg: Message) => m.loop.step(msg),
      onSnapshot: (msg: Message, file: string) => m.onSnapshotReceived(msg, file),
      onUnreachable: (to: NodeId) => m.loop.reportUnreachable(to),
      snapshotDir: layout.snapDir,
      log,
      membership: () => m.membershipNow,
    });
    const applier = new Applier(
      self.id,
      sm,
      lessor,
      {
        onConfChange: (cc, next) => m.onConfChange(cc, next),
        onMembership: (next) => m.onMembership(next),
      },
      (id) => m.proposals.payload(id),
    );
    const loop = new RaftLoop(
      raft,
      wal,
      transport,
      {
        applyEntries: (entries) => applier.apply(entries, (id, o) => m.deliver(id, o)),
        installSnapshot: (meta) => m.installSnapshot(meta),
        sendSnapshot: (msg) => m.sendSnapshot(msg),
        onSoftState: (s: SoftState) => m.onSoftState(s),
        onApplied: (index: number) => m.reads.applied(index),
        flushState: () => m.sm.mvcc.flushed(),
        onFatal: (err) => m.fatal(err),
      },
      {
        tickMs: config.heartbeatIntervalMs,
        snapshotCount: config.snapshotCount,
        catchUpEntries: config.snapshotCatchUpEntries,
      },
      log,
      applied,
      durable.snapshot.index,
    );
    m.loopRef = loop;
    m.transportRef = transport;
    m.watchHubRef = new WatchHub(
      sm.mvcc,
      { clusterId: () => m.clusterId, memberId: self.id, term: () => m.loop.term, log },
      { maxResponseBytes: config.maxRequestBytes + 512 * 1024 },
    );
    sm.observeStore(m.watchHubRef);
    await transport.start();
    const voters = confStateOf(membership).voters;
    m.begin(voters.length === 1 && voters[0] === self.id);
    return m;
  }

  private get loop(): RaftLoop {
    return this.loopRef!;
  }

  private get transport(): PeerTransport {
    return this.transportRef!;
  }

  /** Watch streams and their watchers (etcd's watchable store and watch server). */
  get watch(): WatchHub {
    return this.watchHubRef!;
  }

  get mvcc(): MvccStore {
    return this.sm.mvcc;
  }

  get clusterId(): bigint {
    return this.membershipNow.clusterId;
  }

  get members(): readonly MemberRecord[] {
    return this.membershipNow.members;
  }

  get leader(): bigint {
    return this.loop.leader;
  }

  get isLeader(): boolean {
    return this.loop.isLeader;
  }

  /** For metrics: Raft's commit and applied indexes, proposals waiting, proposals given up. */
  proposalStats(): { committed: number; applied: number; pending: number; failed: number } {
    return { committed: this.loop.status().commit, applied: this.loop.applied, pending: this.proposals.pending, failed: this.proposals.failed };
  }

  /** Where the WAL thread reports its fsync times (metrics). */
  get walStats(): WalStats {
    return this.wal.stats;
  }

  get leaderChangesSeen(): number {
    return this.leaderChanges;
  }

  header(revision: number = this.sm.mvcc.currentRevision): ResponseHeaderFields {
    return { clusterId: this.membershipNow.clusterId, memberId: this.id, revision, raftTerm: this.loop.term };
  }

  /** Proposes a write through Raft and resolves with its result once applied here. */
  write(request: WriteRequest): Promise<WriteResponse> {
    if (this.closed) return Promise.reject(Errors.stopped);
    const { id, done } = this.proposals.register(request);
    const data = encodeInternalRequest({ origin: this.id, id, request });
    if (data.length > this.config.maxRequestBytes) {
      this.proposals.reject(id, Errors.requestTooLarge);
    } else if (!this.loop.propose(data)) {
      this.proposals.reject(id, Errors.tooManyRequests);
    }
    return done;
  }

  /** Proposes a membership change and resolves with the membership once it is applied here. */
  changeMembership(type: ConfChangeType, nodeId: NodeId, member?: MemberRecord): Promise<MemberRecord[]> {
    if (this.closed) return Promise.reject(Errors.stopped);
    const { id, done } = this.proposals.register(undefined);
    const change: ConfChangeRequest = { origin: this.id, id, type, nodeId, ...(member ? { member } : {}) };
    try {
      this.loop.proposeConfChange(encodeConfChange(change));
    } catch (e) {
      this.proposals.reject(id, e instanceof ProposalDropped && this.leader === NONE ? Errors.noLeader : Errors.timeout);
    }
    return done.then((r) => (r.op === 'membership' ? r.members : []));
  }

  /** Hands leadership to `target` (etcd's MoveLeader); resolves once it leads. */
  async moveLeader(target: NodeId): Promise<void> {
    if (!this.isLeader) throw Errors.notLeader;
    const member = this.membershipNow.members.find((m) => m.id === target);
    if (member === undefined || member.isLearner) throw Errors.badLeaderTransferee;
    if (target === this.id) return;
    this.loop.transferLeader(target);
    const deadline = Date.now() + 3 * this.config.electionTimeoutMs;
    while (this.loop.leader !== target) {
      if (Date.now() > deadline) throw Errors.timeoutDueToLeaderFail;
      await new Promise((r) => setTimeout(r, this.config.heartbeatIntervalMs));
    }
  }

  /** A range read: linearizable (ReadIndex) unless serializable. */
  async range(req: RangeRequest, serializable: boolean): Promise<{ revision: number; response: RangeResponse }> {
    if (!serializable) await this.linearizableBarrier();
    const response = this.sm.mvcc.range(req);
    return { revision: this.sm.mvcc.currentRevision, response };
  }

  /** A txn without writes: served here, like a read, without a Raft proposal (as etcd does). */
  async readTxn(req: TxnRequest, serializable: boolean): Promise<TxnResponse> {
    if (!serializable) await this.linearizableBarrier();
    return this.sm.mvcc.txn(req);
  }

  /** Waits until this member has applied everything committed before the call. */
  async linearizableBarrier(): Promise<void> {
    if (this.closed) throw Errors.stopped;
    const index = await this.loop.readIndex();
    await this.reads.wait(index, this.loop.applied);
  }

  /** Grants a lease (generating a positive id when 0), through Raft. */
  async leaseGrant(id: bigint, ttl: number): Promise<{ id: bigint; ttl: number }> {
    const leaseId = id !== 0n ? id : this.nextLeaseId();
    const res = await this.write({ op: 'leaseGrant', id: leaseId, ttl });
    if (res.op !== 'leaseGrant') throw new Error('lease grant answered with ' + res.op);
    return { id: res.id, ttl: res.ttl };
  }

  async leaseRevoke(id: bigint): Promise<number> {
    const res = await this.write({ op: 'leaseRevoke', id });
    return res.revision;
  }

  /** A keepalive: the leader renews; a follower asks the leader. Resolves with the TTL, 0 if the lease is gone. */
  async leaseRenew(id: bigint): Promise<number> {
    if (this.isLeader) {
      try {
        return this.lessor.renew(id, Date.now());
      } catch {
        return 0;
      }
    }
    return this.leaseForwarder.keepAlive(this.leaderClientUrl(), id);
  }

  /** Remaining and granted TTL (leader's view), and the keys if asked; TTL -1 for an unknown lease. */
  async leaseTimeToLive(id: bigint, keys: boolean): Promise<{ ttl: number; grantedTtl: number; keys: Buffer[] }> {
    if (!this.isLeader) {
      const r = await this.leaseForwarder.timeToLive(this.leaderClientUrl(), id, keys);
      return { ttl: r.TTL, grantedTtl: r.grantedTTL, keys: r.keys };
    }
    const granted = this.lessor.grantedTtl(id);
    if (granted === undefined) return { ttl: -1, grantedTtl: 0, keys: [] };
    return {
      ttl: this.lessor.remaining(id, Date.now()),
      grantedTtl: granted,
      keys: keys ? keysOfLease(this.sm.mvcc, id) : [],
    };
  }

  leases(): bigint[] {
    return this.lessor.ids();
  }

  private leaderClientUrl(): string {
    const leader = this.membershipNow.members.find((m) => m.id === this.loop.leader);
    const url = leader?.clientUrls[0];
    if (url === undefined) throw Errors.noLeader;
    return url;
  }

  /** etcd's idutil layout: low 16 bits of the member id, 40 bits of milliseconds, 8-bit counter; positive. */
  private nextLeaseId(): bigint {
    const counter = BigInt(this.leaseIdCounter++ & 0xff);
    const ms = BigInt(Date.now()) & 0xff_ffff_ffffn;
    const id = (((this.id & 0xffffn) << 48n) | (ms << 8n) | counter) & ((1n << 63n) - 1n);
    return id === 0n ? 1n : id;
  }

  /** Leader: propose the revoke of every expired lease (once each), as etcd's lessor does. */
  private revokeExpiredLeases(): void {
    if (!this.lessor.isPrimary) return;
    for (const id of this.lessor.expired(Date.now(), LEASE_REVOKES_PER_CHECK)) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.write({ op: 'leaseRevoke', id })
        .catch(() => undefined)
        .finally(() => this.revoking.delete(id));
    }
  }

  async status(): Promise<MemberStatus> {
    const st = this.loop.status();
    const self = this.membershipNow.members.find((m) => m.id === this.id);
    return {
      leader: st.leader,
      raftIndex: st.lastIndex,
      raftTerm: st.term,
      raftAppliedIndex: this.loop.applied,
      dbSize: await this.sm.mvcc.dbSizeBytes(),
      isLearner: self?.isLearner ?? false,
    };
  }

  /** Round-trip samples (seconds) to each peer, from the transport's pings. */
  peerRtts(): Map<NodeId, number[]> {
    const out = new Map<NodeId, number[]>();
    for (const m of this.membershipNow.members) if (m.id !== this.id) out.set(m.id, this.transport.rtt(m.id));
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    clearInterval(this.publisher);
    clearInterval(this.leaseTimer);
    this.leaseForwarder.close();
    this.loop.stop();
    this.proposals.failAll(Errors.stopped);
    this.reads.failAll(Errors.stopped);
    await this.transport.close();
    await this.wal.close();
    await this.watchHubRef?.close();
    await this.sm.close();
  }

  private begin(singleVoter: boolean): void {
    this.loop.start();
    if (singleVoter) this.loop.campaign();
    this.sweeper = setInterval(() => {
      const now = Date.now();
      const leaderFailed = now - this.leaderLostAt < 5000 + 2 * this.config.electionTimeoutMs;
      this.proposals.expire(now, leaderFailed ? Errors.timeoutDueToLeaderFail : Errors.timeout);
      this.reads.expire(now, Errors.timeout);
    }, 100);
    this.sweeper.unref();
    this.leaseTimer = setInterval(() => this.revokeExpiredLeases(), LEASE_CHECK_MS);
    this.leaseTimer.unref();
    this.publishAttributes();
  }

  /**
   * etcd's publish: announce this member's name and client URLs through Raft, retrying until
   * it is applied, so every member lists them.
   */
  private publishAttributes(): void {
    const published = () => {
      const me = this.membershipNow.members.find((m) => m.id === this.id);
      return (
        me !== undefined &&
        me.name === this.config.name &&
        me.clientUrls.join(',') === this.config.advertiseClientUrls.join(',')
      );
    };
    const attempt = () => {
      if (this.closed || (published() && this.loop.leader !== NONE)) {
        clearInterval(this.publisher);
        if (!this.closed) this.markReady();
        return;
      }
      if (this.loop.leader === NONE) return;
      this.write({
        op: 'memberAttributes',
        memberId: this.id,
        name: this.config.name,
        clientUrls: this.config.advertiseClientUrls,
      }).catch(() => undefined);
    };
    this.publisher = setInterval(attempt, Math.max(50, this.config.heartbeatIntervalMs));
    this.publisher.unref();
    attempt();
  }

  private deliver(id: number, outcome: ApplyOutcome): void {
    if (outcome.ok) this.proposals.resolve(id, outcome.response);
    else this.proposals.reject(id, outcome.error);
  }

  private onConfChange(cc: ConfChangeRequest, next: Membership): void {
    this.loop.applyConfChange({ type: cc.type, nodeId: cc.nodeId });
    const before = new Set(this.membershipNow.members.map((m) => m.id));
    this.onMembership(next);
    for (const m of next.members) {
      if (m.id !== this.id && !before.has(m.id)) this.transport.addPeer(m.id, m.peerUrls);
    }
    if (!next.members.some((m) => m.id === cc.nodeId) && cc.nodeId !== this.id) this.transport.removePeer(cc.nodeId);
    if (!next.members.some((m) => m.id === this.id)) {
      this.log.warn({ member: idHex(this.id) }, 'this member was removed from the cluster; stopping');
      setTimeout(() => void this.close().then(() => process.exit(0)), 100);
    }
  }

  private onMembership(next: Membership): void {
    for (const m of next.members) {
      const old = this.membershipNow.members.find((o) => o.id === m.id);
      if (m.id !== this.id && old !== undefined && old.peerUrls.join(',') !== m.peerUrls.join(',')) {
        this.transport.updatePeer(m.id, m.peerUrls);
      }
    }
    this.membershipNow = next;
  }

  private onSoftState(s: SoftState): void {
    if (s.leader !== NONE && s.leader !== this.lastLeader) this.leaderChanges++;
    // Only the leader times leases; a new one first extends them all (no early expiry on failover).
    if (s.role === Role.Leader && !this.lessor.isPrimary) this.lessor.promote(Date.now(), this.config.electionTimeoutMs);
    else if (s.role !== Role.Leader && this.lessor.isPrimary) this.lessor.demote();
    if (s.leader === NONE && this.lastLeader !== NONE) this.leaderLostAt = Date.now();
    this.lastLeader = s.leader;
    this.log.info(
      { leader: idHex(s.leader), role: s.role === Role.Leader ? 'leader' : 'follower', term: this.loop.term },
      s.leader === NONE ? 'lost leader' : 'elected leader',
    );
  }

  /** Leader side: copy the state machine and stream it to the follower. */
  private async sendSnapshot(msg: Message): Promise<boolean> {
    const dir = fs.mkdtempSync(path.join(this.layout.snapDir, 'out-'));
    try {
      const file = await this.sm.copyTo(dir);
      await this.transport.sendSnapshot(msg, file);
      return true;
    } catch (e) {
      this.log.warn({ to: idHex(msg.to), err: (e as Error).message }, 'failed to send snapshot');
      return false;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Follower side: the transport has the file on disk; Raft decides whether to install it. */
  private onSnapshotReceived(msg: Message, file: string): void {
    const index = msg.snapshot?.index;
    if (index === undefined) return;
    const previous = this.receivedSnapshots.get(index);
    if (previous !== undefined && previous !== file) fs.rmSync(previous, { force: true });
    this.receivedSnapshots.set(index, file);
    this.loop.step(msg);
  }

  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const file = this.receivedSnapshots.get(meta.index);
    if (file === undefined) throw new Error(`no snapshot file received for index ${meta.index}`);
    this.receivedSnapshots.delete(meta.index);
    for (const other of this.receivedSnapshots.values()) fs.rmSync(other, { force: true });
    this.receivedSnapshots.clear();
    failpoint('snapshotBeforeInstall');
    await this.sm.replaceWith(file);
    // On disk this is the moment between the rename and the reopen: reopening writes nothing.
    failpoint('snapshotAfterInstall');
    this.onMembership(this.sm.membership());
    this.lessor.restore(this.sm.state.leases(), Date.now());
  }

  private fatal(err: Error): void {
    this.log.fatal({ err: err.message }, 'member cannot continue safely; exiting');
    process.exit(1);
  }
}

/**
 * A snapshot from the leader is recorded in the WAL (which drops the log before it) before the
 * state is replaced by it. If the member stopped in between, the WAL's snapshot is newer than the
 * state: install the received file now, as etcd recovers its backend from the snapshot database.
 */
async function installPendingSnapshot(sm: StateMachine, walSnapshotIndex: number, snapDir: string, log: Logger): Promise<void> {
  const applied = sm.state.applied().index;
  if (walSnapshotIndex <= applied) return;
  const file = path.join(snapDir, snapshotFileName(walSnapshotIndex));
  if (!fs.existsSync(file)) {
    throw new Error(`the WAL holds a snapshot at index ${walSnapshotIndex}, the state only reaches ${applied}, and ${file} is missing`);
  }
  await sm.replaceWith(file);
  log.info({ index: walSnapshotIndex, previouslyApplied: applied }, 'installed the snapshot received before the restart');
}

function confStateOf(m: Membership): { voters: NodeId[]; learners: NodeId[] } {
  return {
    voters: m.members.filter((x) => !x.isLearner).map((x) => x.id),
    learners: m.members.filter((x) => x.isLearner).map((x) => x.id),
  };
}

/** A member added at runtime is first known by its peer URLs (its name comes with publish). */
function findByPeerUrls(m: Membership, config: MemberConfig): MemberRecord | undefined {
  const mine = [...config.initialAdvertisePeerUrls].sort().join(',');
  return m.members.find((x) => [...x.peerUrls].sort().join(',') === mine);
}

/** The initial cluster's membership, with ids derived from the flags as etcd derives them. */
function newClusterMembership(config: MemberConfig): Membership {
  const members: MemberRecord[] = [...config.initialCluster]
    .map(([name, peerUrls]) => ({
      id: memberId(peerUrls, config.initialClusterToken),
      name,
      peerUrls,
      clientUrls: [],
      isLearner: false,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { clusterId: clusterId(members.map((m) => m.id)), members };
}

/**
 * A member added with `member add` joins with --initial-cluster-state=existing: it learns the
 * cluster id and its own id from the members it was told about, and then gets the data from the
 * leader (the log, or a snapshot).
 */
async function existingClusterMembership(config: MemberConfig, log: Logger): Promise<Membership> {
  const peers = [...config.initialCluster].filter(([name]) => name !== config.name).flatMap(([, urls]) => urls);
  if (peers.length === 0) throw new Error('--initial-cluster-state=existing: --initial-cluster names no other member to join');
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const info = await fetchMembership(peers, 2000);
      const mine = [...config.initialAdvertisePeerUrls].sort().join(',');
      if (!info.members.some((m) => [...m.peerUrls].sort().join(',') === mine)) {
        throw new Error(
          `this member (peer URLs ${mine}) is not in the cluster; add it first with \`etcdctl member add ${config.name} --peer-urls=${mine}\``,
        );
      }
      return { clusterId: info.clusterId, members: info.members };
    } catch (e) {
      lastError = e as Error;
      log.warn({ err: lastError.message }, 'cannot get the membership of the cluster to join; retrying');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw lastError ?? new Error('cannot join the cluster');
}

/** First start of a new member: records the initial membership and Raft configuration, then the format. */
async function bootstrap(config: MemberConfig, layout: DataDirLayout, log: Logger): Promise<void> {
  const membership =
    config.initialClusterState === 'existing' ? await existingClusterMembership(config, log) : newClusterMembership(config);
  const sm = StateMachine.open(layout.stateDir);
  sm.state.setMembership(membership);
  await sm.mvcc.flushed();
  await sm.close();
  const wal = WalStore.open(layout.walDir);
  wal.write([
    {
      hardState: { term: 0, vote: NONE, commit: 0 },
      snapshot: { index: 0, term: 0, conf: confStateOf(membership) },
    },
  ]);
  await wal.close();
  writeFormat(layout, `tsetcd ${TSETCD_VERSION}`);
}
