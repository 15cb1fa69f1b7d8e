// What the leader knows about one follower's log, and how it sends to it:
// - probe: one MsgApp at a time until the follower's match index is found;
// - replicate: optimistic `next`, up to a window of MsgApp messages in flight;
// - snapshot: the follower needs entries that were compacted; wait for the snapshot.
import { Inflights } from './inflights.js';

export const enum ReplicationState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

export type ReplicationStateName = 'probe' | 'replicate' | 'snapshot';

const STATE_NAMES: readonly ReplicationStateName[] = ['probe', 'replicate', 'snapshot'];

export class Progress {
  /** Highest index known to be durable in the follower's log and matching ours. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ReplicationState = ReplicationState.Probe;
  /** Index of the snapshot sent while in the snapshot state. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In the probe state: a MsgApp is out, wait for its answer (or a heartbeat response). */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  /** Forget everything (a new term): start probing from `next`. */
  reset(next: number, match: number): void {
    this.match = match;
    this.next = next;
    this.recentActive = false;
    this.resetState(ReplicationState.Probe);
  }

  becomeProbe(): void {
    // After a snapshot, probe from just after it: the follower most likely applied it.
    const after = this.state === ReplicationState.Snapshot ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.resetState(ReplicationState.Probe);
    this.next = after + 1;
  }

  becomeReplicate(): void {
    this.resetState(ReplicationState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ReplicationState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement of `index`; returns whether it was news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /** A MsgApp went out whose entries end at `lastIndex` (`count` entries). */
  sentAppend(count: number, lastIndex: number): void {
    if (this.state === ReplicationState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === ReplicationState.Probe) {
      this.probeSent = true;
    }
  }

  /**
   * The follower rejected the MsgApp whose previous index was `rejected`; `hint` is the
   * highest index that may still match. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === ReplicationState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  get paused(): boolean {
    switch (this.state) {
      case ReplicationState.Probe:
        return this.probeSent;
      case ReplicationState.Replicate:
        return this.inflights.full;
      case ReplicationState.Snapshot:
        return true;
    }
  }

  get stateName(): ReplicationStateName {
    return STATE_NAMES[this.state]!;
  }

  private resetState(state: ReplicationState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
