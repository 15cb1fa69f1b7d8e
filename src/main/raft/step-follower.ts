// How a follower handles messages: accept the leader's appends, heartbeats and snapshots,
// forward proposals and reads to it, campaign when told to by a leadership transfer.
import { RaftInvariantViolation } from './errors.js';
import { isFromLeader, newMessage } from './messages.js';
import type { Raft } from './raft.js';
import type { Message } from './types.js';
import { MessageType, NONE } from './types.js';

const EMPTY_CONTEXT = new Uint8Array(0);

export function stepFollower(r: Raft, m: Message): void {
  if (isFromLeader(m)) {
    // Election safety (Raft §5.2): one leader per term.
    if (r.lead !== NONE && r.lead !== m.from) {
      throw new RaftInvariantViolation(`two leaders in term ${r.term}: ${r.lead} and ${m.from}`);
    }
    r.electionElapsed = 0;
    r.lead = m.from;
  }
  switch (m.type) {
    case MessageType.Prop:
      r.propose(m.entries, false);
      return;
    case MessageType.App:
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      handleSnapshot(r, m);
      return;
    case MessageType.TimeoutNow:
      r.hup(true);
      return;
    case MessageType.ReadIndex:
      r.requestRead(m.from, m.context ?? EMPTY_CONTEXT);
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, context: m.context ?? EMPTY_CONTEXT });
      return;
  }
}

/** AppendEntries (Raft §5.3). The answer waits for persistence: it promises the entries are durable. */
function handleAppend(r: Raft, m: Message): void {
  const resp = newMessage(MessageType.AppResp, m.from, r.term);
  if (m.index < r.log.committed) {
    // Everything up to our commit index matches the leader already.
    resp.index = r.log.committed;
    r.send(resp);
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew >= 0) {
    resp.index = lastNew;
  } else {
    resp.reject = true;
    resp.index = m.index;
    // Fast backtracking: point the leader at our last entry that could still match.
    const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
    resp.rejectHint = hint;
    resp.logTerm = r.log.term(hint) ?? 0;
  }
  r.send(resp);
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit);
  const resp = newMessage(MessageType.HeartbeatResp, m.from, r.term);
  if (m.context !== undefined) resp.context = m.context;
  r.send(resp);
}

function handleSnapshot(r: Raft, m: Message): void {
  if (m.snapshot === undefined) return;
  const resp = newMessage(MessageType.AppResp, m.from, r.term);
  resp.index = r.restoreSnapshot(m.snapshot) ? r.log.lastIndex() : r.log.committed;
  r.send(resp);
}
