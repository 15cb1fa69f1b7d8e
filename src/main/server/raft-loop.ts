// Drives the deterministic Raft core on the main thread: ticks it on a timer, feeds it batched
// proposals and read requests, and carries out each Ready: persist through the WAL thread,
// send to peers, apply committed entries, answer reads.
import { encodeBatch } from '../../storage/wal/record.js';
import type { WalWrite } from '../../storage/wal/wal-store.js';
import type { Logger } from '../log.js';
import { RaftNode } from '../raft/node.js';
import type { Entry, Message, NodeId, Ready, SnapshotMeta, SoftState } from '../raft/types.js';
import { NONE, Role } from '../raft/types.js';
import type { WalClient } from './wal-client.js';

export interface PeerTransport {
  send(messages: readonly Message[]): void;
}

export interface RaftLoopHooks {
  /** Applies committed entries (in one transaction) and returns when they are visible. */
  applyEntries(entries: readonly Entry[]): void;
  /** The leader or this member's role changed. */
  onSoftState(state: SoftState): void;
  /** Applied index moved forward (wakes reads and proposals waiting on it). */
  onApplied(index: number): void;
  /** Resolves once the applied state is on disk: only then may a snapshot drop WAL entries. */
  flushState(): Promise<void>;
}

export interface RaftLoopOptions {
  tickMs: number;
  /** Entries applied between local snapshots, after which the WAL drops old entries. */
  snapshotCount: number;
  /** Entries kept in the log behind a snapshot so slow followers catch up without one (etcd: 5000). */
  catchUpEntries: number;
}

interface ReadBatch {
  waiters: { resolve: (index: number) => void; reject: (e: Error) => void }[];
}

export class RaftLoop {
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private pendingProposals: Uint8Array[] = [];
  private pendingReads: ReadBatch | undefined;
  private readonly readsInFlight = new Map<string, ReadBatch>();
  private readSeq = 0;
  private appliedIndex: number;
  private lastSnapshotIndex: number;
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

  /** Queues an entry; all entries queued in one event-loop turn go to Raft together. */
  propose(data: Uint8Array): void {
    this.pendingProposals.push(data);
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
    if (this.pendingProposals.length === 0) return;
    const batch = this.pendingProposals;
    this.pendingProposals = [];
    try {
      this.raft.propose(batch);
    } catch (e) {
      // Dropped (no leader, transfer in progress): the waiters time out or see the leader change.
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
    } catch (e) {
      // No leader (or too many reads queued): these reads fail now rather than time out.
      for (const w of batch.waiters) w.reject(e as Error);
      return;
    }
    this.readsInFlight.set(ctx.toString('latin1'), batch);
  }

  private handle(rd: Ready): void {
    if (rd.softState !== undefined) {
      if (rd.softState.leader === NONE) this.failReads(new Error('no leader'));
      this.hooks.onSoftState(rd.softState);
    }
    if (rd.messages.length > 0) this.transport.send(rd.messages);
    this.persist(rd);
    if (rd.committedEntries.length > 0) {
      this.hooks.applyEntries(rd.committedEntries);
      const last = rd.committedEntries[rd.committedEntries.length - 1]!.index;
      this.appliedIndex = last;
      this.raft.applied(last);
      this.hooks.onApplied(last);
      this.maybeSnapshot(rd.committedEntries[rd.committedEntries.length - 1]!);
    }
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.context).toString('latin1');
      const batch = this.readsInFlight.get(key);
      if (batch === undefined) continue;
      this.readsInFlight.delete(key);
      for (const w of batch.waiters) w.resolve(rs.index);
    }
  }

  private persist(rd: Ready): void {
    const write: WalWrite = {};
    if (rd.hardState !== undefined) write.hardState = rd.hardState;
    if (rd.snapshot !== undefined) {
      write.snapshot = rd.snapshot;
      write.compactTo = Number.MAX_SAFE_INTEGER;
    }
    if (rd.entries.length > 0) write.batch = encodeBatch(rd.entries);
    const last = rd.entries[rd.entries.length - 1];
    const afterPersist = rd.messagesAfterPersist;
    if (write.hardState === undefined && write.snapshot === undefined && last === undefined) {
      if (afterPersist.length > 0) this.transport.send(afterPersist);
      return;
    }
    // The last entry written, or the snapshot's position when a snapshot alone was written.
    const persistedAt = last ?? rd.snapshot;
    this.wal.write(write, () => {
      if (this.stopped) return;
      if (afterPersist.length > 0) this.transport.send(afterPersist);
      if (persistedAt !== undefined) this.raft.persisted(persistedAt.index, persistedAt.term);
      this.schedule();
    });
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

  private failReads(err: Error): void {
    for (const batch of this.readsInFlight.values()) for (const w of batch.waiters) w.reject(err);
    this.readsInFlight.clear();
  }
}
