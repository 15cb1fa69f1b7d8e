// RaftNode: the public face of the deterministic Raft core. The member drives it with
// tick() and step(), hands it requests, and carries out each Ready (see Ready in types.ts).
// Nothing here reads a clock, touches a socket or a disk, or draws randomness other than
// through config.random.
import { ProposalDropped, RaftInvariantViolation, type DropReason } from './errors.js';
import { newMessage } from './messages.js';
import type { ReplicationStateName } from './progress.js';
import { Raft } from './raft.js';
import type {
  ConfChangeType,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftConfig,
  RaftRestore,
  Ready,
  SnapshotMeta,
  SoftState,
} from './types.js';
import { EntryType, MessageType, NONE, Role } from './types.js';

export { ProposalDropped, RaftInvariantViolation } from './errors.js';
export type { DropReason } from './errors.js';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ReplicationStateName;
}

export interface RaftStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  leader: NodeId;
  role: Role;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  /** The leader's view of every member's replication; undefined on other nodes. */
  progress: Map<NodeId, ProgressStatus> | undefined;
}

export class RaftNode {
  private readonly raft: Raft;
  private prevHardState: HardState;
  private prevSoftState: SoftState;

  /**
   * Validates `config` (electionTick > heartbeatTick >= 1, maxInflightMessages >= 1, sizes
   * >= 0) and resumes from `restore`: the node starts as a follower in the restored term,
   * keeping its vote.
   */
  constructor(config: RaftConfig, restore: RaftRestore) {
    validateConfig(config);
    this.raft = new Raft(config, restore);
    this.prevHardState = { term: restore.hardState.term, vote: restore.hardState.vote, commit: restore.hardState.commit };
    this.prevSoftState = { leader: this.raft.lead, role: this.raft.role };
  }

  get leader(): NodeId {
    return this.raft.lead;
  }

  get term(): number {
    return this.raft.term;
  }

  get role(): Role {
    return this.raft.role;
  }

  /** Advances logical time by one tick (heartbeatTick and electionTick count these). */
  tick(): void {
    this.raft.tick();
  }

  /**
   * A message from a peer, or a local one (from this node or NONE). Ignored: messages not
   * addressed to this node, and local-only types (Hup, Beat, CheckQuorum, Unreachable,
   * SnapStatus) coming from another node; use campaign() and the report methods for those.
   */
  step(msg: Message): void {
    const self = this.raft.id;
    if (msg.to !== self && msg.to !== NONE) return;
    if (msg.from !== self && msg.from !== NONE && isLocalOnly(msg.type)) return;
    this.raft.step(msg);
  }

  /** Proposes entries; a follower forwards them to the leader in one MsgProp. */
  propose(data: Uint8Array[]): void {
    if (data.length === 0) return;
    const entries: Entry[] = new Array(data.length);
    for (let i = 0; i < data.length; i++) entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: data[i]! };
    throwIfDropped(this.raft.propose(entries, true));
  }

  /**
   * Proposes a ConfChange entry (`data` is the member's encoding). At most one may be
   * pending: the leader refuses another until the previous one is applied. A follower
   * forwards it, and a leader that refuses it then drops it silently.
   */
  proposeConfChange(data: Uint8Array): void {
    throwIfDropped(this.raft.propose([{ term: 0, index: 0, type: EntryType.ConfChange, data }], true));
  }

  /** The member applies a committed ConfChange entry: the new membership takes effect now. */
  applyConfChange(cc: { type: ConfChangeType; nodeId: NodeId }): ConfState {
    return this.raft.applyConfChange(cc.type, cc.nodeId);
  }

  /** The current membership (as of the last applied ConfChange, or the latest snapshot). */
  confState(): ConfState {
    return this.raft.tracker.confState();
  }

  /** A linearizable read: a ReadState with this context arrives in a later Ready. */
  readIndex(context: Uint8Array): void {
    throwIfDropped(this.raft.requestRead(this.raft.id, context));
  }

  /**
   * Hands leadership to `to`. On the leader: catch it up, then tell it to campaign; proposals
   * are refused meanwhile (at most an election timeout). On another node only `to` = this
   * node is accepted (it asks the leader); otherwise ProposalDropped('not-leader').
   */
  transferLeader(to: NodeId): void {
    throwIfDropped(this.raft.transferLeader(to));
  }

  /** Starts an election now (with a pre-vote first if configured). */
  campaign(): void {
    this.raft.hup(false);
  }

  hasReady(): boolean {
    const r = this.raft;
    return (
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.readStates.length > 0 ||
      r.lead !== this.prevSoftState.leader ||
      r.role !== this.prevSoftState.role ||
      this.hardStateChanged() ||
      r.log.hasUnstable() ||
      r.log.hasCommittedToApply()
    );
  }

  /** Takes everything pending; see Ready in types.ts for what the member must do with it. */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      entries: r.log.takeUnstableEntries(),
      messages: r.msgs,
      messagesAfterPersist: r.msgsAfterPersist,
      committedEntries: r.takeCommittedEntries(),
      readStates: r.readStates,
      mustSync: false,
    };
    const snapshot = r.log.takeUnstableSnapshot();
    if (snapshot !== undefined) rd.snapshot = snapshot;
    const prev = this.prevHardState;
    rd.mustSync = rd.entries.length > 0 || snapshot !== undefined || r.term !== prev.term || r.vote !== prev.vote;
    if (r.lead !== this.prevSoftState.leader || r.role !== this.prevSoftState.role) {
      this.prevSoftState = { leader: r.lead, role: r.role };
      rd.softState = this.prevSoftState;
    }
    // Messages after persist need a write to wait for: include the HardState even if unchanged.
    if (this.hardStateChanged() || rd.messagesAfterPersist.length > 0) {
      if (r.term < this.prevHardState.term || r.log.committed < this.prevHardState.commit) {
        throw new RaftInvariantViolation('the HardState went back');
      }
      this.prevHardState = { term: r.term, vote: r.vote, commit: r.log.committed };
      rd.hardState = this.prevHardState;
    }
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    return rd;
  }

  /** The member's log is durable up to (index, term): see Ready in types.ts. */
  persisted(index: number, term: number): void {
    this.raft.persisted(index, term);
  }

  /** The member applied everything up to `index` (from committedEntries or a snapshot). */
  applied(index: number): void {
    this.raft.log.appliedTo(index);
  }

  /**
   * The member took a state-machine snapshot at `snapshot.index` (<= applied, with the
   * membership as of that index): drop the log up to it, except the last `retainEntries`
   * entries before it (kept so followers slightly behind catch up without a snapshot).
   * Followers needing dropped entries are sent this snapshot's metadata in a MsgSnap.
   */
  compact(snapshot: SnapshotMeta, retainEntries = 0): void {
    this.raft.log.compact(snapshot, retainEntries);
  }

  /** The member finished (ok) or failed to stream a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    const m = newMessage(MessageType.SnapStatus, this.raft.id, 0);
    m.from = to;
    m.reject = !ok;
    this.raft.step(m);
  }

  /** A message to `to` could not be delivered. */
  reportUnreachable(to: NodeId): void {
    const m = newMessage(MessageType.Unreachable, this.raft.id, 0);
    m.from = to;
    this.raft.step(m);
  }

  status(): RaftStatus {
    const r = this.raft;
    let progress: Map<NodeId, ProgressStatus> | undefined;
    if (r.role === Role.Leader) {
      progress = new Map();
      for (const [id, pr] of r.tracker.progress) progress.set(id, { match: pr.match, next: pr.next, state: pr.stateName });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      leader: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      progress,
    };
  }

  private hardStateChanged(): boolean {
    const r = this.raft;
    const p = this.prevHardState;
    return r.term !== p.term || r.vote !== p.vote || r.log.committed !== p.commit;
  }
}

function isLocalOnly(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.CheckQuorum ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus
  );
}

function throwIfDropped(reason: DropReason | undefined): void {
  if (reason !== undefined) throw new ProposalDropped(reason);
}

function validateConfig(c: RaftConfig): void {
  if (c.id === 0n) throw new RangeError('raft config: id must not be 0 (NONE)');
  if (!Number.isInteger(c.heartbeatTick) || c.heartbeatTick < 1) throw new RangeError('raft config: heartbeatTick must be >= 1');
  if (!Number.isInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new RangeError('raft config: electionTick must be an integer > heartbeatTick');
  }
  if (!Number.isInteger(c.maxInflightMessages) || c.maxInflightMessages < 1) {
    throw new RangeError('raft config: maxInflightMessages must be >= 1');
  }
  if (!(c.maxSizePerMessage >= 0) || !(c.maxUncommittedSize >= 0)) {
    throw new RangeError('raft config: maxSizePerMessage and maxUncommittedSize must be >= 0');
  }
}
