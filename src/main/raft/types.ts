// The contract between the deterministic Raft core and the member that drives it.
// The core never touches time, sockets or disk: the member calls tick() on a timer,
// step() for each incoming message, and takes a Ready that says what to persist,
// what to send and what to apply.

/** A member id: etcd's 64-bit member id. 0n means "none". */
export type NodeId = bigint;
export const NONE: NodeId = 0n;

export const enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to Raft; an empty Normal entry is the no-op a new leader appends. */
  data: Uint8Array;
}

/** The state that must be durable before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export const enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  AddLearnerNode = 3,
}

/** Carried in a ConfChange entry's data (encoded by the member, decoded by the member). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque member context (name, peer URLs) for the member layer. */
  context: Uint8Array;
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export const enum MessageType {
  /** Local: start an election (used by tick and by campaign()). */
  Hup = 0,
  /** Local: leader sends heartbeats. */
  Beat = 1,
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  Unreachable = 10,
  SnapStatus = 11,
  CheckQuorum = 12,
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

/**
 * One Raft message. A single flat shape (as in etcd's raftpb.Message) keeps the
 * encoding for the peer transport trivial; fields not used by a type are left at
 * their zero values.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: index of the entry preceding `entries`; AppResp: the match index or the rejected index. */
  index: number;
  /** App: term of the entry at `index`. */
  logTerm: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** AppResp on reject: the follower's last index, to speed up probing. */
  rejectHint: number;
  /** Snap: the snapshot's metadata; the member streams the data alongside. */
  snapshot?: SnapshotMeta;
  /** Heartbeat / ReadIndex: the opaque request context echoed back. */
  context?: Uint8Array;
}

/** The result of a ReadIndex request: once applied >= index, a read with this context is linearizable. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

export const enum Role {
  Follower = 0,
  PreCandidate = 1,
  Candidate = 2,
  Leader = 3,
}

export interface SoftState {
  leader: NodeId;
  role: Role;
}

/**
 * What the member must do, in order:
 * 1. persist `hardState`, `snapshot` and `entries` (entries replace any existing
 *    suffix of the log starting at entries[0].index), fsynced; unless `mustSync` is false;
 * 2. send `messages` at once (they do not depend on step 1);
 * 3. after step 1 is durable, send `messagesAfterPersist` and call
 *    `persisted(lastIndex, lastTerm)` with the last entry persisted;
 * 4. apply `snapshot` (if any) then `committedEntries` to the state machine, in order,
 *    and call `applied(index)`.
 * Every committed entry handed out is already durable on this member.
 *
 * Details of the core's side of this contract:
 * - Writes are durable in Ready order (a FIFO WAL), so step 3 of a Ready also waits for all
 *   earlier Readies. A Ready with `messagesAfterPersist` always carries a `hardState` (possibly
 *   unchanged), so a member that writes every Ready has a write for them to wait for.
 * - `mustSync` is false when the Ready has no entries or snapshot and its `hardState` (if any)
 *   differs from the last one only in the commit index (etcd's MustSync). The member may skip
 *   that write: the commit index is learnt again from the leader after a restart, and an
 *   applied index beyond the stored commit counts as committed. Step 3 then waits only for the
 *   earlier Readies' writes.
 * - `persisted(index, term)`: the last entry of `entries`, or the snapshot's index and term
 *   if the Ready had a snapshot and no entries; not needed for a Ready with only a hardState.
 * - A `snapshot` is applied once it is durable; committed entries after it are handed out
 *   only after that (they need `persisted()` beyond the snapshot).
 * - For every MsgSnap in `messages` the member streams its snapshot data and then calls
 *   `reportSnapshot(to, ok)`; replication to that follower waits for it (or its answer).
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: SnapshotMeta;
  messages: Message[];
  messagesAfterPersist: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  /** Whether steps 1 and 3 need a durable write (see above). */
  mustSync: boolean;
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [e, 2e)). */
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Max MsgApp messages in flight to one follower in the replicate state. */
  maxInflightMessages: number;
  /** Max total bytes of entry data in one MsgApp. */
  maxSizePerMessage: number;
  /** Max bytes of uncommitted entry data the leader accepts before dropping proposals. */
  maxUncommittedSize: number;
  /** Deterministic randomness for election timeouts: returns an integer in [0, n). */
  random: (n: number) => number;
}

/** What the member reads back from disk at start, or the initial configuration of a new cluster. */
export interface RaftRestore {
  hardState: HardState;
  /** The last snapshot (or index 0 / term 0 with the bootstrap configuration). */
  snapshot: SnapshotMeta;
  /** Entries after the snapshot, in order, all durable. */
  entries: Entry[];
  /** The highest index already applied to the state machine. */
  applied: number;
  /**
   * The membership as of `applied`, if ConfChange entries after the snapshot were already
   * applied (they are not handed out again); defaults to `snapshot.conf`.
   */
  conf?: ConfState;
}
