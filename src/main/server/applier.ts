// Applies committed Raft entries to the state machine: a batch of entries in one LMDB
// transaction together with the applied index, so a restart resumes exactly where it was.
// Results go to the proposals of this member that wait for them.
import { GrpcError, toGrpcError } from '../errors.js';
import type { Entry } from '../raft/types.js';
import { EntryType } from '../raft/types.js';
import type { MvccStore } from '../../storage/mvcc/index.js';
import type { StateStore } from '../../storage/state/state-store.js';
import { decodeInternalRequest, type WriteRequest } from './internal-request.js';

export type WriteResponse = { revision: number } & (
  | { op: 'put'; put: ReturnType<MvccStore['put']> }
  | { op: 'deleteRange'; deleteRange: ReturnType<MvccStore['deleteRange']> }
  | { op: 'txn'; txn: ReturnType<MvccStore['txn']> }
  | { op: 'compact' }
);

export type ApplyOutcome = { ok: true; response: WriteResponse } | { ok: false; error: GrpcError };

/** Receives the outcome of each applied entry that this member proposed. */
export type OutcomeSink = (id: number, outcome: ApplyOutcome) => void;

export interface ApplyHooks {
  /** Called for ConfChange entries, inside the apply transaction (membership lives in the state store). */
  applyConfChange(entry: Entry): void;
}

export class Applier {
  constructor(
    private readonly memberId: bigint,
    private readonly state: StateStore,
    private readonly mvcc: MvccStore,
    private readonly hooks: ApplyHooks,
  ) {}

  /** Applies entries in order, in one transaction; outcomes are delivered after it commits. */
  apply(entries: readonly Entry[], deliver: OutcomeSink): void {
    if (entries.length === 0) return;
    const outcomes: [number, ApplyOutcome][] = [];
    this.state.env.transactionSync(() => {
      for (const entry of entries) {
        if (entry.type === EntryType.ConfChange) {
          this.hooks.applyConfChange(entry);
        } else if (entry.data.byteLength > 0) {
          const req = decodeInternalRequest(entry.data);
          const outcome = this.execute(req.request);
          if (req.origin === this.memberId) outcomes.push([req.id, outcome]);
        }
      }
      const last = entries[entries.length - 1]!;
      this.state.setApplied({ index: last.index, term: last.term });
    });
    for (const [id, outcome] of outcomes) deliver(id, outcome);
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
    const mvcc = this.mvcc;
    switch (req.op) {
      case 'put': {
        const put = mvcc.put(req.put);
        return { op: 'put', put, revision: mvcc.currentRevision };
      }
      case 'deleteRange': {
        const deleteRange = mvcc.deleteRange(req.deleteRange);
        return { op: 'deleteRange', deleteRange, revision: mvcc.currentRevision };
      }
      case 'txn': {
        const txn = mvcc.txn(req.txn);
        return { op: 'txn', txn, revision: mvcc.currentRevision };
      }
      case 'compact':
        mvcc.compact(req.revision);
        return { op: 'compact', revision: mvcc.currentRevision };
    }
  }
}
