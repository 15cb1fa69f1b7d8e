// The leader's queue of ReadIndex requests (Raft thesis §6.4).
//
// A read is answered with the commit index recorded when it arrived, once the leader has
// confirmed it was still the leader *after* that moment: a heartbeat round started after
// the read was queued is acknowledged by a majority. Rounds are numbered; every read waits
// for the first round started after it, so all reads queued while a round is in flight
// share the next one. Acks are kept as "highest round acknowledged" per voter, so the
// confirmed round is a majority value, like the commit index.
import { decodeReadRound, encodeReadRound } from './messages.js';
import type { ProgressTracker } from './tracker.js';
import type { NodeId } from './types.js';

/** Answered reads are sliced off the front of the queue once this many have piled up. */
const COMPACT_AFTER = 1024;

export interface ReadRequest {
  /** Who asked: this node, or the follower that forwarded it. */
  from: NodeId;
  context: Uint8Array;
  /** The read index: the leader's commit index when the request was queued. */
  index: number;
  /** The heartbeat round that confirms it. */
  round: number;
}

export class ReadIndexQueue {
  private queue: ReadRequest[] = [];
  private head = 0;
  /** Reads that arrived before the leader committed an entry of its term (its commit index may be stale). */
  private postponed: ReadRequest[] = [];
  private startedRound = 0;
  private confirmedRound = 0;
  private readonly acked = new Map<NodeId, number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.queue.length - this.head + this.postponed.length;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Whether a round is out and not yet confirmed. */
  get roundInFlight(): boolean {
    return this.startedRound > this.confirmedRound;
  }

  /** Whether some queued read still waits for a round to be started. */
  needsRound(): boolean {
    return this.queue.length > this.head && this.queue[this.queue.length - 1]!.round > this.startedRound;
  }

  hasQueued(): boolean {
    return this.queue.length > this.head;
  }

  postpone(from: NodeId, context: Uint8Array): void {
    this.postponed.push({ from, context, index: 0, round: 0 });
  }

  /** Takes the postponed reads out, to be queued now that the leader committed in its term. */
  takePostponed(): ReadRequest[] {
    const reads = this.postponed;
    this.postponed = [];
    return reads;
  }

  enqueue(from: NodeId, context: Uint8Array, index: number): void {
    this.queue.push({ from, context, index, round: this.startedRound + 1 });
  }

  /** Starts a new round; the returned context goes on the heartbeats. The leader acks it itself. */
  startRound(self: NodeId): Uint8Array {
    this.startedRound++;
    this.acked.set(self, this.startedRound);
    return encodeReadRound(this.startedRound);
  }

  /** A heartbeat response; returns the reads it confirms (in arrival order), if any. */
  ack(from: NodeId, context: Uint8Array | undefined, tracker: ProgressTracker): ReadRequest[] | undefined {
    const round = decodeReadRound(context);
    if (round === 0 || round > this.startedRound || round <= (this.acked.get(from) ?? 0)) return undefined;
    this.acked.set(from, round);
    const confirmed = tracker.majorityOf(this.acked);
    if (confirmed <= this.confirmedRound) return undefined;
    this.confirmedRound = confirmed;
    let end = this.head;
    while (end < this.queue.length && this.queue[end]!.round <= confirmed) end++;
    if (end === this.head) return undefined;
    const done = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return done;
  }

  /** Drops everything (leadership lost or a new term): the requesters retry. */
  reset(): void {
    this.queue = [];
    this.head = 0;
    this.postponed = [];
    this.startedRound = 0;
    this.confirmedRound = 0;
    this.acked.clear();
  }
}
