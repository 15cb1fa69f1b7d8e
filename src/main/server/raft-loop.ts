// Drives the deterministic Raft core on the main thread: ticks it on a timer, feeds it batched
// proposals and read requests, and carries out each Ready: persist through the WAL thread,
// send to peers, apply committed entries, answer reads.
import { encodeBatch } from '../../storage/wal/record.js';
import type { WalWrite } from '../../storage/wal/wal-store.js';
import { Errors, type GrpcError } from '../errors.js';
import type { Logger } from '../log.js';
import { RaftNode } from '../raft/node.js';
import type { Entry, Message, NodeId, Ready, SnapshotMeta, SoftState } from '../raft/types.js';
import { MessageType, NONE, Role } from '../raft/types.js';
import type { WalClient } from './wal-client.js';

export interface PeerTransport {
  send(messages: readonly Message[]): void;
}

export interface RaftLoopHooks {
  /**
   * Applies committed entries; they are visible when it returns. A returned promise asks the
   * loop to apply nothing more until it resolves (the store's commits are behind).
   */
  applyEntries(entries: readonly Entry[]): Promise<void> | undefined;
  /** Replaces the state machine with the snapshot received for `meta` (already durable in the WAL). */
  installSnapshot(meta: SnapshotMeta): Promise<void>;
  /** Streams the state machine to a follower that needs a snapshot; resolves true once it has it. */
  sendSnapshot(message: Message): Promise<boolean>;
  /** The leader or this member's role changed. */
  onSoftState(state: SoftState): void;
  /** Applied index moved forward (wakes reads and proposals waiting on it). */
  onApplied(index: number): void;
  /** Resolves once the applied state is on disk: only then may a snapshot drop WAL entries. */
  flushState(): Promise<void>;
  /** The state machine could not be brought forward (a failed install): the member must stop. */
  onFatal(err: Error): void;
}

export interface RaftLoopOptions {
  tickMs: number;
  /** Entries applied between local snapshots, after which the WAL drops old entries. */
  snapshotCount: number;
  /** Entries kept in the log behind a snapshot so slow followers catch up without one (etcd: 5000). */
  catchUpEntries: number;
}

/** Proposals held while there is no leader. */
const MAX_PENDING_PROPOSALS = 65536;

interface ReadBatch {
  waiters: { resolve: (index: number) => void; reject: (e: Error) => void }[];
}

/** Work for the state machine, done strictly in order; a snapshot install is asynchronous. */
type ApplyItem = { entries: readonly Entry[] } | { snapshot: SnapshotMeta; durable: Promise<void> };

export class RaftLoop {
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private pendingProposals: Uint8Array[] = [];
  private pendingReads: ReadBatch | undefined;
  private readonly readsInFlight = new Map<string, ReadBatch>();
  private readSeq = 0;
  private appliedIndex: number;
  private lastSnapshotIndex: number;
  private readonly applyQueue: ApplyItem[] = [];
  /** A snapshot install or a storage backpressure wait is in progress: apply waits. */
  private applyPaused = false;
  private knownLeader: NodeId = NONE;
  private stopped = false;

  constructor(
    private readonly raft: RaftNode,
    private readonly wal: WalClient,
    private readonly transport: PeerTransport,
    private readonly hooks: RaftLoopHooks,
    private readonly opts: RaftLoopOptions,
    private readonly log: Logger,
    applied: number,
    snapshotIndex: number,
  ) {
    this.appliedIndex = applied;
    this.lastSnapshotIndex = snapshotIndex;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.raft.tick();
      this.schedule();
    }, this.opts.tickMs);
    this.schedule();
  }

  /** Campaign at once (a single-voter cluster need not wait out an election timeout). */
  campaign(): void {
    this.raft.campaign();
    this.schedule();
  }

  get leader(): NodeId {
    return this.raft.leader;
  }

  get term(): number {
    return this.raft.term;
  }

  get isLeader(): boolean {
    return this.raft.role === Role.Leader;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  status(): ReturnType<RaftNode['status']> {
    return this.raft.status();
  }

  /**
   * Queues an entry; all entries queued in one event-loop turn go to Raft together. While there
   * is no leader they wait for one (as etcd's Propose blocks), up to a bound: returns false when
   * the queue is full.
   */
  propose(data: Uint8Array): boolean {
    if (this.pendingProposals.length >= MAX_PENDING_PROPOSALS) return false;
    this.pendingProposals.push(data);
    this.schedule();
    return true;
  }

  /** Proposes a membership change (one at a time; throws ProposalDropped otherwise). */
  proposeConfChange(data: Uint8Array): void {
    this.raft.proposeConfChange(data);
    this.schedule();
  }

  /** Called by the applier when a ConfChange entry is applied. */
  applyConfChange(cc: Parameters<RaftNode['applyConfChange']>[0]): void {
    this.raft.applyConfChange(cc);
  }

  /** Hands leadership to `to` (throws ProposalDropped when this member cannot). */
  transferLeader(to: NodeId): void {
    this.raft.transferLeader(to);
    this.schedule();
  }

  /** Resolves with an index such that a read served once applied >= index is linearizable. */
  readIndex(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pendingReads ??= { waiters: [] };
      this.pendingReads.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  step(message: Message): void {
    this.raft.step(message);
    this.schedule();
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.flushProposals();
    this.flushReads();
    while (this.raft.hasReady()) this.handle(this.raft.ready());
  }

  private flushProposals(): void {
    if (this.pendingProposals.length === 0 || this.raft.leader === NONE) return;
    const batch = this.pendingProposals;
    this.pendingProposals = [];
    try {
      this.raft.propose(batch);
    } catch (e) {
      // Dropped (a leader transfer in progress, too much uncommitted): the waiters time out.
      this.log.debug({ err: (e as Error).message, entries: batch.length }, 'proposals dropped');
    }
  }

  private flushReads(): void {
    const batch = this.pendingReads;
    if (batch === undefined) return;
    this.pendingReads = undefined;
    const ctx = Buffer.allocUnsafe(8);
    ctx.writeDoubleBE(++this.readSeq);
    try {
      this.raft.readIndex(ctx);
    } catch {
      // No leader (or too many reads queued): these reads fail now rather than time out.
      const err = this.raft.leader === NONE ? Errors.noLeader : Errors.tooManyRequests;
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    this.readsInFlight.set(ctx.toString('latin1'), batch);
  }

  private handle(rd: Ready): void {
    if (rd.softState !== undefined) {
      // Reads waiting on the old leader's ReadIndex will never be answered.
      if (rd.softState.leader !== this.knownLeader) {
        this.failReads(rd.softState.leader === NONE ? Errors.noLeader : Errors.leaderChanged);
      }
      this.knownLeader = rd.softState.leader;
      this.hooks.onSoftState(rd.softState);
      // Proposals held while there was no leader can go now.
      if (this.knownLeader !== NONE && this.pendingProposals.length > 0) this.schedule();
    }
    this.send(rd.messages);
    const durable = this.persist(rd);
    if (rd.snapshot !== undefined) this.enqueueApply({ snapshot: rd.snapshot, durable });
    if (rd.committedEntries.length > 0) this.enqueueApply({ entries: rd.committedEntries });
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.context).toString('latin1');
      const batch = this.readsInFlight.get(key);
      if (batch === undefined) continue;
      this.readsInFlight.delete(key);
      for (const w of batch.waiters) w.resolve(rs.index);
    }
  }

  /** Sends messages; a follower that needs a snapshot gets the state machine streamed. */
  private send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    let plain = messages;
    if (messages.some((m) => m.type === MessageType.Snap)) {
      plain = messages.filter((m) => m.type !== MessageType.Snap);
      for (const m of messages) if (m.type === MessageType.Snap) this.streamSnapshot(m);
    }
    if (plain.length > 0) this.transport.send(plain);
  }

  private streamSnapshot(m: Message): void {
    this.log.info({ to: m.to.toString(16), index: m.snapshot?.index }, 'sending snapshot to a follower');
    void this.hooks.sendSnapshot(m).then((ok) => {
      if (this.stopped) return;
      this.raft.reportSnapshot(m.to, ok);
      this.schedule();
    });
  }

  /** Writes what the Ready asks to persist; the promise resolves once it is durable. */
  private persist(rd: Ready): Promise<void> {
    const afterPersist = rd.messagesAfterPersist;
    if (!rd.mustSync) {
      // At most the commit index changed: not worth an fsync (see Ready). Replies still wait
      // for the entries they acknowledge, which earlier writes carry.
      if (afterPersist.length > 0) {
        this.wal.afterDurable(() => {
          if (!this.stopped) this.send(afterPersist);
        });
      }
      return Promise.resolve();
    }
    const write: WalWrite = {};
    if (rd.hardState !== undefined) write.hardState = rd.hardState;
    if (rd.snapshot !== undefined) {
      write.snapshot = rd.snapshot;
      write.compactTo = Number.MAX_SAFE_INTEGER;
    }
    if (rd.entries.length > 0) write.batch = encodeBatch(rd.entries);
    const last = rd.entries[rd.entries.length - 1];
    // The last entry written, or the snapshot's position when a snapshot alone was written.
    const persistedAt = last ?? rd.snapshot;
    return new Promise((resolve) => {
      this.wal.write(write, () => {
        resolve();
        if (this.stopped) return;
        this.send(afterPersist);
        if (persistedAt !== undefined) this.raft.persisted(persistedAt.index, persistedAt.term);
        this.schedule();
      });
    });
  }

  private enqueueApply(item: ApplyItem): void {
    this.applyQueue.push(item);
    if (!this.applyPaused) this.drainApply();
  }

  /** Applies queued work in order; entries synchronously, a snapshot install asynchronously. */
  private drainApply(): void {
    while (this.applyQueue.length > 0 && !this.stopped) {
      const item = this.applyQueue.shift()!;
      if ('entries' in item) {
        const wait = this.hooks.applyEntries(item.entries);
        const last = item.entries[item.entries.length - 1]!;
        this.advanceApplied(last.index);
        this.maybeSnapshot(last);
        if (wait !== undefined) return this.pauseApplyUntil(wait);
        continue;
      }
      const { snapshot, durable } = item;
      return this.pauseApplyUntil(
        durable
          .then(() => this.hooks.installSnapshot(snapshot))
          .then(() => {
            this.log.info({ index: snapshot.index, term: snapshot.term }, 'installed snapshot from leader');
            this.lastSnapshotIndex = snapshot.index;
            this.advanceApplied(snapshot.index);
          }),
      );
    }
  }

  private pauseApplyUntil(done: Promise<void>): void {
    this.applyPaused = true;
    done.then(
      () => {
        this.applyPaused = false;
        if (this.stopped) return;
        this.drainApply();
        this.schedule();
      },
      (err: Error) => this.hooks.onFatal(err),
    );
  }

  private advanceApplied(index: number): void {
    this.appliedIndex = index;
    this.raft.applied(index);
    this.hooks.onApplied(index);
  }

  /** Every snapshotCount applied entries: once the state is on disk, the WAL forgets old entries. */
  private maybeSnapshot(last: Entry): void {
    if (last.index - this.lastSnapshotIndex < this.opts.snapshotCount) return;
    this.lastSnapshotIndex = last.index;
    const meta: SnapshotMeta = { index: last.index, term: last.term, conf: this.raft.confState() };
    void this.hooks.flushState().then(() => {
      if (this.stopped) return;
      this.raft.compact(meta, this.opts.catchUpEntries);
      const compactTo = Math.max(0, meta.index - this.opts.catchUpEntries);
      this.wal.write({ snapshot: meta, compactTo }, () => undefined);
      this.log.info({ index: meta.index, term: meta.term, compactTo }, 'saved snapshot, compacted raft log');
    });
  }

  private failReads(err: GrpcError): void {
    for (const batch of this.readsInFlight.values()) for (const w of batch.waiters) w.reject(err);
    this.readsInFlight.clear();
  }
}
