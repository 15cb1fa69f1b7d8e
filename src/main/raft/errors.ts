// Errors the Raft core reports to the member. Both are typed values with a stable code.

/** Why a proposal, read or transfer request was refused (the caller may retry later). */
export type DropReason =
  | 'no-leader'
  | 'not-leader'
  | 'transfer-in-progress'
  | 'uncommitted-size-exceeded'
  | 'conf-change-pending'
  | 'not-a-member'
  | 'read-queue-full';

/** Thrown by propose(), proposeConfChange(), readIndex() and transferLeader() when Raft cannot take the request now. */
export class ProposalDropped extends Error {
  readonly code = 'PROPOSAL_DROPPED';

  constructor(readonly reason: DropReason) {
    super(`raft: proposal dropped (${reason})`);
    this.name = 'ProposalDropped';
  }
}

/** A broken Raft invariant or contract: continuing could lose or corrupt committed data. */
export class RaftInvariantViolation extends Error {
  readonly code = 'RAFT_INVARIANT_VIOLATION';

  constructor(what: string) {
    super(`raft invariant violated: ${what}`);
    this.name = 'RaftInvariantViolation';
  }
}
