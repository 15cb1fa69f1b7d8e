// What the leader sends: appends (or a snapshot) paced by each follower's Progress,
// heartbeats, ReadIndex confirmation rounds and TimeoutNow.
import { newMessage } from './messages.js';
import type { Raft } from './raft.js';
import { MessageType } from './types.js';
import type { NodeId } from './types.js';

/** Sends entries from the follower's `next` (or just the commit index if there are none). */
export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/**
 * Sends the next MsgApp to `to` unless its Progress is paused; `sendIfEmpty`: also when
 * there are no entries to send (to carry the commit index). Returns whether something was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.paused) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) return sendSnapshot(r, to);
  const entries = r.log.slice(pr.next, r.config.maxSizePerMessage);
  if (entries.length === 0 && !sendIfEmpty) return false;
  const m = newMessage(MessageType.App, to, r.term);
  m.index = prevIndex;
  m.logTerm = prevTerm;
  m.entries = entries;
  m.commit = r.log.committed;
  pr.sentAppend(entries.length, prevIndex + entries.length);
  r.send(m);
  return true;
}

/** The follower needs entries we compacted: send the latest snapshot's metadata (the member streams the data). */
function sendSnapshot(r: Raft, to: NodeId): boolean {
  const pr = r.tracker.progress.get(to)!;
  // Do not stream a snapshot to a node that may be down; wait until it answers again.
  if (!pr.recentActive) return false;
  const m = newMessage(MessageType.Snap, to, r.term);
  m.snapshot = r.log.snapshot;
  pr.becomeSnapshot(r.log.snapshot.index);
  r.send(m);
  return true;
}

export function broadcastAppend(r: Raft): void {
  const ids = r.tracker.ids;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== r.id) sendAppend(r, ids[i]!);
}

export function sendHeartbeat(r: Raft, to: NodeId, context: Uint8Array | undefined): void {
  const pr = r.tracker.progress.get(to)!;
  const m = newMessage(MessageType.Heartbeat, to, r.term);
  // Never let a follower commit past what it is known to have: its log may still differ above.
  m.commit = Math.min(pr.match, r.log.committed);
  if (context !== undefined) m.context = context;
  r.send(m);
}

/** Heartbeats to everyone; they carry a new read round if reads are waiting (this also retries lost rounds). */
export function broadcastHeartbeat(r: Raft): void {
  const context = r.reads.hasQueued() ? r.reads.startRound(r.id) : undefined;
  const ids = r.tracker.ids;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== r.id) sendHeartbeat(r, ids[i]!, context);
}

export function startReadRound(r: Raft): void {
  const context = r.reads.startRound(r.id);
  const ids = r.tracker.ids;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== r.id) sendHeartbeat(r, ids[i]!, context);
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send(newMessage(MessageType.TimeoutNow, to, r.term));
}
