// The membership (voters and learners), the leader's Progress for each member, and the
// votes of the current election.
import { Progress } from './progress.js';
import { majorityValue, tallyVotes, type VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  /** Every member's Progress (voters and learners), including this node's own. */
  readonly progress = new Map<NodeId, Progress>();
  /** The members, and the voters, in a stable order: hot loops iterate arrays, not Maps or Sets. */
  ids: NodeId[] = [];
  private voterIds: NodeId[] = [];
  private readonly votes = new Map<NodeId, boolean>();
  private readonly scratch: number[] = [];

  constructor(private readonly maxInflight: number) {}

  /** Replaces the membership (at start, or from a snapshot); every Progress starts probing at `next`. */
  reset(conf: ConfState, next: number): void {
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    this.ids = [];
    this.voterIds = [];
    this.votes.clear();
    for (const id of conf.voters) this.addVoter(id, next);
    for (const id of conf.learners) this.addLearner(id, next);
  }

  confState(): ConfState {
    return { voters: sorted(this.voters), learners: sorted(this.learners) };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  /** Adds a voter, or promotes a learner. */
  addVoter(id: NodeId, next: number): void {
    this.learners.delete(id);
    this.voters.add(id);
    this.voterIds = [...this.voters];
    this.ensureProgress(id, next).isLearner = false;
  }

  /** Adds a learner, or demotes a voter. */
  addLearner(id: NodeId, next: number): void {
    if (this.voters.delete(id)) this.voterIds = [...this.voters];
    this.learners.add(id);
    this.ensureProgress(id, next).isLearner = true;
  }

  remove(id: NodeId): void {
    if (this.voters.delete(id)) this.voterIds = [...this.voters];
    this.learners.delete(id);
    this.votes.delete(id);
    if (this.progress.delete(id)) this.ids = [...this.progress.keys()];
  }

  /** The highest index durable on a majority of voters. */
  committed(): number {
    const ids = this.voterIds;
    for (let i = 0; i < ids.length; i++) this.scratch[i] = this.progress.get(ids[i]!)!.match;
    return majorityValue(this.scratch, ids.length);
  }

  /** The highest value a majority of voters have reached in `values` (missing counts as 0). */
  majorityOf(values: ReadonlyMap<NodeId, number>): number {
    const ids = this.voterIds;
    for (let i = 0; i < ids.length; i++) this.scratch[i] = values.get(ids[i]!) ?? 0;
    return majorityValue(this.scratch, ids.length);
  }

  /** Whether a majority of voters was heard from since the last check (the leader counts itself). */
  quorumActive(): boolean {
    const ids = this.voterIds;
    let active = 0;
    for (let i = 0; i < ids.length; i++) if (this.progress.get(ids[i]!)!.recentActive) active++;
    return active > ids.length >> 1;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; only the first answer of each voter counts. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return tallyVotes(granted, rejected, this.voters.size);
  }

  private ensureProgress(id: NodeId, next: number): Progress {
    let pr = this.progress.get(id);
    if (pr === undefined) {
      pr = new Progress(next, this.maxInflight, false);
      // A new member counts as active: it has had no chance to answer yet, and check-quorum
      // must not depose the leader for that.
      pr.recentActive = true;
      this.progress.set(id, pr);
      this.ids = [...this.progress.keys()];
    }
    return pr;
  }
}

function sorted(ids: ReadonlySet<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
