// The Raft state machine of one node: term, vote, role and the transitions between roles,
// the term rules every message goes through, and the requests of the local member
// (proposals, reads, transfers, membership). Each role's handling of messages lives in its
// own step function (step-leader.ts, step-candidate.ts, step-follower.ts); elections in
// election.ts; what the leader sends in replication.ts.
import { campaign, handleVoteRequest } from './election.js';
import { type DropReason, RaftInvariantViolation } from './errors.js';
import { RaftLog } from './log.js';
import { isFromLeader, isTransferCampaign, newMessage } from './messages.js';
import { ReadIndexQueue } from './read-only.js';
import { broadcastAppend, maybeSendAppend, startReadRound } from './replication.js';
import { stepLeader, startTransfer } from './step-leader.js';
import { stepFollower } from './step-follower.js';
import { stepCandidate } from './step-candidate.js';
import { ProgressTracker } from './tracker.js';
import type { ConfState, Entry, Message, NodeId, RaftConfig, RaftRestore, ReadState, SnapshotMeta } from './types.js';
import { ConfChangeType, EntryType, MessageType, NONE, Role } from './types.js';

/** Reads queued at the leader beyond this many are refused with 'read-queue-full'. */
export const MAX_PENDING_READS = 4096;

const EMPTY_DATA = new Uint8Array(0);

type StepFn = (r: Raft, m: Message) => void;

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly reads = new ReadIndexQueue(MAX_PENDING_READS);
  term: number;
  vote: NodeId;
  lead: NodeId = NONE;
  role: Role = Role.Follower;
  /** Ticks since the last election timeout reset (leader: since the last check-quorum round). */
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** The node a leadership transfer is under way to. */
  leadTransferee: NodeId = NONE;
  /** Index of the latest ConfChange the leader appended; a new one waits until it is applied. */
  pendingConfIndex = 0;
  /** Bytes of entry data the leader appended and has not yet handed out as committed. */
  private uncommittedSize = 0;
  /**
   * Leader: whether its term and vote are known to be on disk. A single voter elects itself
   * before its vote is durable; until then everything it sends waits for the next persist.
   */
  private termDurable = false;
  /** Sent at once. */
  msgs: Message[] = [];
  /** Sent only once the state they depend on (and everything before it) is durable. */
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];
  private stepRole: StepFn = stepFollower;

  constructor(
    readonly config: RaftConfig,
    restore: RaftRestore,
  ) {
    this.id = config.id;
    this.log = new RaftLog(restore);
    this.tracker = new ProgressTracker(config.maxInflightMessages);
    this.tracker.reset(restore.conf ?? restore.snapshot.conf, this.log.lastIndex() + 1);
    this.term = restore.hardState.term;
    this.vote = restore.hardState.vote;
    this.becomeFollower(this.term, NONE);
  }

  // ---- time -------------------------------------------------------------------------------

  tick(): void {
    if (this.role === Role.Leader) this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.promotable()) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTick) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        this.step(newMessage(MessageType.CheckQuorum, this.id, 0));
        if (this.role !== Role.Leader) return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(newMessage(MessageType.Beat, this.id, 0));
    }
  }

  // ---- messages ---------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if ((m.type === MessageType.Vote || m.type === MessageType.PreVote) && this.inLease(m)) return;
      if (m.type === MessageType.PreVote || (m.type === MessageType.PreVoteResp && !m.reject)) {
        // A pre-vote is for a term the candidate has not entered yet: it changes nobody's term.
      } else {
        this.becomeFollower(m.term, isFromLeader(m) ? m.from : NONE);
      }
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepStale(m);
      return;
    }
    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        handleVoteRequest(this, m);
        return;
      default:
        this.stepRole(this, m);
    }
  }

  /**
   * Leader lease: a node that heard from a leader within the election timeout ignores
   * candidates (with check-quorum for votes, always for pre-votes, Raft thesis §9.6),
   * unless the leader itself asked for the election by a transfer.
   */
  private inLease(m: Message): boolean {
    if (this.lead === NONE || this.electionElapsed >= this.config.electionTick) return false;
    if (isTransferCampaign(m.context)) return false;
    return this.config.checkQuorum || m.type === MessageType.PreVote;
  }

  /** A message from an older term. */
  private stepStale(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === MessageType.App || m.type === MessageType.Heartbeat)) {
      // A deposed leader (or one cut off while we moved on) learns the newer term from this
      // answer; with pre-vote and check-quorum nothing else would tell it.
      this.send(newMessage(MessageType.AppResp, m.from, this.term));
    } else if (m.type === MessageType.PreVote) {
      const resp = newMessage(MessageType.PreVoteResp, m.from, this.term);
      resp.reject = true;
      this.send(resp);
    }
  }

  /** Queues a message; `from` is set here. */
  send(m: Message): void {
    m.from = this.id;
    if (
      m.type === MessageType.AppResp ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.Vote ||
      (this.role === Role.Leader && !this.termDurable)
    ) {
      this.msgsAfterPersist.push(m);
    } else {
      this.msgs.push(m);
    }
  }

  // ---- roles ------------------------------------------------------------------------------

  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  /** Starts an election if this node may. */
  hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    // The membership an election counts votes in must be the latest committed one.
    if (this.log.hasUnappliedConfChange()) return;
    campaign(this, transfer ? 'transfer' : this.config.preVote ? 'pre' : 'normal');
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepRole = stepFollower;
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  becomePreCandidate(): void {
    if (this.role === Role.Leader) throw new RaftInvariantViolation('leader -> pre-candidate');
    // Neither the term nor the vote changes: a pre-election must not disrupt anybody.
    this.stepRole = stepCandidate;
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = Role.PreCandidate;
    this.resetRandomizedElectionTimeout();
  }

  becomeCandidate(): void {
    if (this.role === Role.Leader) throw new RaftInvariantViolation('leader -> candidate');
    this.stepRole = stepCandidate;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  /** `termDurable`: won with another node's vote, which it granted only after our vote was on disk. */
  becomeLeader(termDurable: boolean): void {
    if (this.role !== Role.Candidate) throw new RaftInvariantViolation('only a candidate becomes leader');
    this.stepRole = stepLeader;
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    this.termDurable = termDurable;
    const self = this.tracker.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Any entry not yet applied may be a ConfChange: allow a new one only after all are.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op of the new term: entries of earlier terms commit with it (Raft §5.4.2).
    this.log.append({ term: this.term, index: this.log.lastIndex() + 1, type: EntryType.Normal, data: EMPTY_DATA });
  }

  private reset(term: number): void {
    if (term !== this.term) {
      if (term < this.term) throw new RaftInvariantViolation(`term going back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const next = this.log.lastIndex() + 1;
    const ownMatch = Math.max(0, this.log.durable);
    for (const id of this.tracker.ids) this.tracker.progress.get(id)!.reset(next, id === this.id ? ownMatch : 0);
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.reads.reset();
  }

  private resetRandomizedElectionTimeout(): void {
    const e = this.config.electionTick;
    const r = this.config.random(e);
    if (!Number.isInteger(r) || r < 0 || r >= e) throw new RangeError(`config.random(${e}) returned ${r}`);
    this.randomizedElectionTimeout = e + r;
  }

  // ---- the leader's commit ----------------------------------------------------------------

  /** Leader: advance the commit index from the match indexes; on success tell the followers. */
  maybeCommit(): boolean {
    if (!this.log.maybeCommit(this.tracker.committed(), this.term)) return false;
    if (this.reads.size > 0) for (const rd of this.reads.takePostponed()) this.admitRead(rd.from, rd.context);
    broadcastAppend(this);
    return true;
  }

  /** Committed, durable entries for the member to apply; they no longer count as uncommitted. */
  takeCommittedEntries(): Entry[] {
    const entries = this.log.takeCommittedToApply();
    if (this.uncommittedSize > 0) {
      let bytes = 0;
      for (let i = 0; i < entries.length; i++) bytes += entries[i]!.data.length;
      this.uncommittedSize = Math.max(0, this.uncommittedSize - bytes);
    }
    return entries;
  }

  /** The member made the log durable up to (index, term). */
  persisted(index: number, term: number): void {
    if (!this.log.persisted(index, term) || this.role !== Role.Leader) return;
    if (this.log.term(this.log.durable) === this.term) this.termDurable = true;
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined && self.maybeUpdate(this.log.durable)) this.maybeCommit();
  }

  // ---- requests of the local member -------------------------------------------------------

  /**
   * Proposes entries (their term and index are assigned here). `owned`: the entries were
   * made for this call and may be filled in place; otherwise (from a message) they are copied.
   */
  propose(entries: Entry[], owned: boolean): DropReason | undefined {
    if (entries.length === 0) return undefined;
    if (this.role === Role.Leader) return this.appendProposal(entries, owned);
    if (this.role !== Role.Follower || this.lead === NONE) return 'no-leader';
    const m = newMessage(MessageType.Prop, this.lead, 0);
    m.entries = entries;
    this.send(m);
    return undefined;
  }

  private appendProposal(entries: Entry[], owned: boolean): DropReason | undefined {
    if (!this.tracker.progress.has(this.id)) return 'not-a-member';
    if (this.leadTransferee !== NONE) return 'transfer-in-progress';
    let bytes = 0;
    let confChanges = 0;
    for (let i = 0; i < entries.length; i++) {
      bytes += entries[i]!.data.length;
      if (entries[i]!.type === EntryType.ConfChange) confChanges++;
    }
    if (confChanges > 1 || (confChanges === 1 && this.pendingConfIndex > this.log.applied)) return 'conf-change-pending';
    // An empty uncommitted tail accepts a proposal of any size, so a big entry cannot be stuck forever.
    if (this.uncommittedSize > 0 && this.uncommittedSize + bytes > this.config.maxUncommittedSize) {
      return 'uncommitted-size-exceeded';
    }
    this.uncommittedSize += bytes;
    let index = this.log.lastIndex();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      index++;
      let entry: Entry;
      if (owned) {
        e.term = this.term;
        e.index = index;
        entry = e;
      } else {
        entry = { term: this.term, index, type: e.type, data: e.data };
      }
      this.log.append(entry);
      if (entry.type === EntryType.ConfChange) this.pendingConfIndex = index;
    }
    broadcastAppend(this);
    return undefined;
  }

  /** A ReadIndex request from this node or (forwarded) from a follower. */
  requestRead(from: NodeId, context: Uint8Array): DropReason | undefined {
    if (this.role !== Role.Leader) {
      if (this.role !== Role.Follower || this.lead === NONE) return 'no-leader';
      // A read forwarded to us after leadership moved is dropped; its requester retries.
      if (from !== this.id) return undefined;
      const m = newMessage(MessageType.ReadIndex, this.lead, 0);
      m.context = context;
      this.send(m);
      return undefined;
    }
    if (this.reads.full) return 'read-queue-full';
    // Until an entry of this term commits, our commit index may trail the last leader's.
    if (this.log.term(this.log.committed) !== this.term) {
      this.reads.postpone(from, context);
      return undefined;
    }
    this.admitRead(from, context);
    return undefined;
  }

  private admitRead(from: NodeId, context: Uint8Array): void {
    if (this.tracker.voters.size === 1 && this.tracker.isVoter(this.id)) {
      this.answerRead(from, context, this.log.committed);
      return;
    }
    this.reads.enqueue(from, context, this.log.committed);
    if (!this.reads.roundInFlight) startReadRound(this);
  }

  answerRead(from: NodeId, context: Uint8Array, index: number): void {
    if (from === this.id || from === NONE) {
      this.readStates.push({ index, context });
      return;
    }
    const m = newMessage(MessageType.ReadIndexResp, from, this.term);
    m.index = index;
    m.context = context;
    this.send(m);
  }

  transferLeader(to: NodeId): DropReason | undefined {
    if (this.role === Role.Leader) return startTransfer(this, to);
    if (to !== this.id) return 'not-leader';
    if (this.lead === NONE) return 'no-leader';
    // Ask the leader to hand leadership to us.
    this.send(newMessage(MessageType.TransferLeader, this.lead, this.term));
    return undefined;
  }

  /** Installs a snapshot from the leader; false if it brings nothing new. */
  restoreSnapshot(s: SnapshotMeta): boolean {
    if (s.index <= this.log.committed) return false;
    if (this.log.term(s.index) === s.term) {
      // Our log already has the snapshot's last entry: just commit up to it.
      this.log.commitTo(s.index);
      return false;
    }
    this.log.restore(s);
    this.tracker.reset(s.conf, this.log.lastIndex() + 1);
    return true;
  }

  /** Single-server membership change, applied when the member applies the ConfChange entry. */
  applyConfChange(type: ConfChangeType, nodeId: NodeId): ConfState {
    const next = this.log.lastIndex() + 1;
    switch (type) {
      case ConfChangeType.AddNode:
        this.tracker.addVoter(nodeId, next);
        break;
      case ConfChangeType.AddLearnerNode:
        this.tracker.addLearner(nodeId, next);
        break;
      case ConfChangeType.RemoveNode:
        this.tracker.remove(nodeId);
        break;
      default:
        throw new RangeError(`unknown ConfChangeType ${String(type)}`);
    }
    if (this.role === Role.Leader) this.afterMembershipChange();
    return this.tracker.confState();
  }

  private afterMembershipChange(): void {
    if (!this.tracker.isVoter(this.id)) {
      // Removed or demoted: tell the followers the commit index, then step down.
      broadcastAppend(this);
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.leadTransferee !== NONE && !this.tracker.progress.has(this.leadTransferee)) this.leadTransferee = NONE;
    // A smaller quorum may commit more; new members are probed at once.
    if (!this.maybeCommit()) for (const id of this.tracker.ids) if (id !== this.id) maybeSendAppend(this, id, false);
  }
}
