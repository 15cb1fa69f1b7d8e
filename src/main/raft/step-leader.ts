// How a leader handles messages: proposals and reads, the followers' answers that drive
// replication and commitment, check-quorum, snapshots' outcome and leadership transfer.
import { type DropReason, RaftInvariantViolation } from './errors.js';
import { isFromLeader } from './messages.js';
import type { Progress } from './progress.js';
import { ReplicationState } from './progress.js';
import type { Raft } from './raft.js';
import { broadcastHeartbeat, maybeSendAppend, sendAppend, sendTimeoutNow, startReadRound } from './replication.js';
import type { Message, NodeId } from './types.js';
import { MessageType, NONE } from './types.js';

const EMPTY_CONTEXT = new Uint8Array(0);

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      broadcastHeartbeat(r);
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.Prop:
      r.propose(m.entries, false);
      return;
    case MessageType.ReadIndex:
      r.requestRead(m.from, m.context ?? EMPTY_CONTEXT);
      return;
  }
  if (isFromLeader(m)) throw new RaftInvariantViolation(`two leaders in term ${r.term}: ${r.id} and ${m.from}`);
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined || m.from === r.id) return;
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, pr, m);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, pr, m);
      return;
    case MessageType.SnapStatus:
      if (pr.state !== ReplicationState.Snapshot) return;
      // On failure forget the snapshot, so probing does not start after it.
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for the follower's answer to the snapshot (or the next heartbeat) before probing.
      pr.probeSent = true;
      return;
    case MessageType.Unreachable:
      // Optimistic appends to an unreachable node were most likely lost.
      if (pr.state === ReplicationState.Replicate) pr.becomeProbe();
      return;
    case MessageType.TransferLeader:
      startTransfer(r, m.from);
      return;
  }
}

/** Check-quorum: a leader that has not heard from a majority within an election timeout steps down. */
function checkQuorum(r: Raft): void {
  const self = r.tracker.progress.get(r.id);
  if (self !== undefined) self.recentActive = true;
  if (!r.tracker.quorumActive()) {
    r.becomeFollower(r.term, NONE);
    return;
  }
  for (const id of r.tracker.ids) if (id !== r.id) r.tracker.progress.get(id)!.recentActive = false;
}

function handleAppendResponse(r: Raft, pr: Progress, m: Message): void {
  pr.recentActive = true;
  if (m.reject) {
    // The follower's hint: its largest index <= the rejected one whose term is <= ours there.
    // Skip back over our entries of terms it cannot have.
    const hint = m.logTerm > 0 ? r.log.findConflictByTerm(m.rejectHint, m.logTerm) : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === ReplicationState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = pr.paused;
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ReplicationState.Probe) {
    pr.becomeReplicate();
  } else if (
    pr.state === ReplicationState.Snapshot &&
    (pr.match >= pr.pendingSnapshot || pr.match + 1 >= r.log.firstIndex())
  ) {
    // Caught up through the snapshot, or the log can serve it again.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ReplicationState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  // A commit is broadcast to everyone; otherwise a follower that was paused may lack the commit index.
  if (!r.maybeCommit() && wasPaused) sendAppend(r, m.from);
  // Fill the window that the acknowledgement opened.
  while (maybeSendAppend(r, m.from, false));
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResponse(r: Raft, pr: Progress, m: Message): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // The follower is alive: let one more append through a full window.
  if (pr.state === ReplicationState.Replicate && pr.inflights.full) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
  if (m.context === undefined) return;
  const confirmed = r.reads.ack(m.from, m.context, r.tracker);
  if (confirmed !== undefined) for (const rd of confirmed) r.answerRead(rd.from, rd.context, rd.index);
  // Reads that arrived while that round was out need a round of their own.
  if (r.reads.needsRound() && !r.reads.roundInFlight) startReadRound(r);
}

/** Leadership transfer (Raft thesis §3.10): catch the transferee up, then tell it to campaign at once. */
export function startTransfer(r: Raft, transferee: NodeId): DropReason | undefined {
  if (transferee === r.id) return undefined;
  const pr = r.tracker.progress.get(transferee);
  if (pr === undefined || pr.isLearner) return 'not-a-member';
  if (r.leadTransferee === transferee) return undefined;
  // Proposals are refused until it completes or an election timeout passes.
  r.leadTransferee = transferee;
  r.electionElapsed = 0;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppend(r, transferee);
  return undefined;
}
