// Applies committed Raft entries to the state machine, writing the applied index with them, so
// a restart resumes exactly where it was.
// Entries at or below the stored applied index are skipped (they are already in the state, e.g.
// after installing a snapshot newer than the Raft snapshot it came with). Results go to the
// proposals of this member that wait for them.
import { Errors, GrpcError, toGrpcError } from '../errors.js';
import { failpoint, failpointArmed } from '../failpoints.js';
import type { Lessor } from '../lease/lessor.js';
import type { Entry } from '../raft/types.js';
import { ConfChangeType, EntryType } from '../raft/types.js';
import type { MvccStore } from '../../storage/mvcc/index.js';
import type { Membership, MemberRecord } from '../../storage/state/state-store.js';
import {
  decodeConfChange,
  decodeWriteRequest,
  requestOrigin,
  type ConfChangeRequest,
  type WriteRequest,
} from './internal-request.js';
import type { StateMachine } from './state-machine.js';

export type WriteResponse = { revision: number } & (
  | { op: 'put'; put: ReturnType<MvccStore['put']> }
  | { op: 'deleteRange'; deleteRange: ReturnType<MvccStore['deleteRange']> }
  | { op: 'txn'; txn: ReturnType<MvccStore['txn']> }
  | { op: 'compact' }
  | { op: 'membership'; members: MemberRecord[] }
  | { op: 'leaseGrant'; id: bigint; ttl: number }
  | { op: 'leaseRevoke' }
);

export type ApplyOutcome = { ok: true; response: WriteResponse } | { ok: false; error: GrpcError };

/** Receives the outcome of each applied entry that this member proposed. */
export type OutcomeSink = (id: number, outcome: ApplyOutcome) => void;

export interface ApplyHooks {
  /** A membership change was applied (inside the apply transaction): tell Raft and the transport. */
  onConfChange(change: ConfChangeRequest, membership: Membership): void;
  /** Member attributes or URLs changed. */
  onMembership(membership: Membership): void;
}

/** The keys a lease holds now: every current key whose KeyValue carries it. */
export function keysOfLease(mvcc: MvccStore, id: bigint): Buffer[] {
  const all = mvcc.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), keysOnly: true });
  return all.kvs.filter((kv) => kv.lease === id).map((kv) => kv.key);
}

export class Applier {
  constructor(
    private readonly memberId: bigint,
    private readonly sm: StateMachine,
    private readonly lessor: Lessor,
    private readonly hooks: ApplyHooks,
    /** This member's proposals still waiting, by id: their decoded request. */
    private readonly localRequest: (id: number) => WriteRequest | undefined,
  ) {}

  /**
   * Applies entries in order, synchronously: reads see the results at once, and LMDB commits
   * everything written in this turn, applied index included, as one transaction. Returns a
   * promise when the store asks the caller to wait for its commits before applying more.
   */
  apply(entries: readonly Entry[], deliver: OutcomeSink): Promise<void> | undefined {
    const state = this.sm.state;
    const skipThrough = state.applied().index;
    let last: Entry | undefined;
    try {
      for (const entry of entries) {
        if (entry.index <= skipThrough) continue;
        if (entry.type === EntryType.ConfChange) {
          const cc = decodeConfChange(entry.data);
          const outcome = this.confChange(cc);
          if (cc.origin === this.memberId) deliver(cc.id, outcome);
        } else if (entry.data.byteLength > 0) {
          const { origin, id } = requestOrigin(entry.data);
          const mine = origin === this.memberId;
          const request = (mine ? this.localRequest(id) : undefined) ?? decodeWriteRequest(entry.data);
          const outcome = this.execute(request);
          if (mine) deliver(id, outcome);
        }
        last = entry;
      }
    } finally {
      // One write of the applied index per batch, in the same LMDB transaction as the batch's
      // writes. Should an entry break the store, it still names the last entry applied in full,
      // so what LMDB commits stays consistent.
      if (last !== undefined) state.setApplied({ index: last.index, term: last.term });
    }
    failpoint('applyBeforeCommit');
    // "After commit": once the LMDB transaction holding this batch has committed.
    if (failpointArmed('applyAfterCommit')) void this.sm.mvcc.committed().then(() => failpoint('applyAfterCommit'), () => undefined);
    return this.sm.mvcc.backpressure();
  }

  private execute(req: WriteRequest): ApplyOutcome {
    try {
      return { ok: true, response: this.write(req) };
    } catch (e) {
      // Deterministic request errors (e.g. compacting an old revision) are results, the same on
      // every member. Anything else is a broken store: let it escape and stop the member.
      if (e instanceof GrpcError) return { ok: false, error: toGrpcError(e) };
      throw e;
    }
  }

  private write(req: WriteRequest): WriteResponse {
    const mvcc = this.sm.mvcc;
    switch (req.op) {
      case 'put': {
        this.checkLease(req.put.lease);
        const put = mvcc.put(req.put);
        return { op: 'put', put, revision: mvcc.currentRevision };
      }
      case 'deleteRange': {
        const deleteRange = mvcc.deleteRange(req.deleteRange);
        return { op: 'deleteRange', deleteRange, revision: mvcc.currentRevision };
      }
      case 'txn': {
        const txn = mvcc.txn(req.txn, this.leaseExists);
        return { op: 'txn', txn, revision: mvcc.currentRevision };
      }
      case 'compact':
        mvcc.compact(req.revision);
        return { op: 'compact', revision: mvcc.currentRevision };
      case 'memberAttributes':
        return this.updateMember(req.memberId, (m) => ({ ...m, name: req.name, clientUrls: req.clientUrls }));
      case 'memberPeerUrls':
        return this.updateMember(req.memberId, (m) => ({ ...m, peerUrls: req.peerUrls }));
      case 'leaseGrant': {
        const ttl = this.lessor.grant(req.id, req.ttl, Date.now());
        this.sm.state.putLease(req.id, ttl);
        return { op: 'leaseGrant', id: req.id, ttl, revision: mvcc.currentRevision };
      }
      case 'leaseRevoke': {
        this.lessor.revoke(req.id);
        this.sm.state.removeLease(req.id);
        // All of the lease's keys go in one revision, as etcd deletes them in one write txn.
        const keys = keysOfLease(mvcc, req.id);
        if (keys.length > 0) mvcc.txn({ compare: [], success: keys.map((key) => ({ deleteRange: { key } })), failure: [] });
        return { op: 'leaseRevoke', revision: mvcc.currentRevision };
      }
    }
  }

  /** For txns: etcd checks the leases of the puts on the path taken only. */
  private readonly leaseExists = (id: bigint): boolean => this.lessor.has(id);

  /** etcd refuses a put with a lease that does not exist (requested lease not found). */
  private checkLease(lease: bigint | undefined): void {
    if (lease !== undefined && lease !== 0n && !this.lessor.has(lease)) throw Errors.leaseNotFound;
  }

  private updateMember(id: bigint, change: (m: MemberRecord) => MemberRecord): WriteResponse {
    const membership = this.sm.membership();
    const members = membership.members.map((m) => (m.id === id ? change(m) : m));
    const next = { ...membership, members };
    this.sm.state.setMembership(next);
    this.hooks.onMembership(next);
    return { op: 'membership', members, revision: this.sm.mvcc.currentRevision };
  }

  /** Single-server membership change; the member record travels in the entry. */
  private confChange(cc: ConfChangeRequest): ApplyOutcome {
    const membership = this.sm.membership();
    let members = membership.members.filter((m) => m.id !== cc.nodeId);
    const existing = membership.members.find((m) => m.id === cc.nodeId);
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        const record = existing ?? cc.member;
        if (record === undefined) throw new Error(`conf change adds unknown member ${cc.nodeId.toString(16)}`);
        members = [...members, { ...record, isLearner: cc.type === ConfChangeType.AddLearnerNode }];
        break;
      }
      case ConfChangeType.RemoveNode:
        break;
    }
    const next = { ...membership, members: members.sort((a, b) => (a.id < b.id ? -1 : 1)) };
    this.sm.state.setMembership(next);
    this.hooks.onConfChange(cc, next);
    return { ok: true, response: { op: 'membership', members: next.members, revision: this.sm.mvcc.currentRevision } };
  }
}
