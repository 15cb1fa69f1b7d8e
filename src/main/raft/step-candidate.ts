// How a candidate or pre-candidate handles messages: count votes, yield to a leader.
import { campaign } from './election.js';
import { VoteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { broadcastAppend } from './replication.js';
import { stepFollower } from './step-follower.js';
import type { Message } from './types.js';
import { MessageType, NONE, Role } from './types.js';

const EMPTY_CONTEXT = new Uint8Array(0);

export function stepCandidate(r: Raft, m: Message): void {
  // A candidate may still get answers from its pre-candidacy in this term: ignore those.
  const ownResponse = r.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
      // A leader of our term exists (m.term === r.term).
      r.becomeFollower(m.term, m.from);
      stepFollower(r, m);
      return;
    case MessageType.ReadIndexResp:
      // Confirmed by the leader that answered it, whatever our role is now.
      r.readStates.push({ index: m.index, context: m.context ?? EMPTY_CONTEXT });
      return;
    case ownResponse:
      r.tracker.recordVote(m.from, !m.reject);
      switch (r.tracker.tallyVotes()) {
        case VoteResult.Won:
          if (r.role === Role.PreCandidate) campaign(r, 'normal');
          else {
            r.becomeLeader(true);
            broadcastAppend(r);
          }
          return;
        case VoteResult.Lost:
          r.becomeFollower(r.term, NONE);
          return;
        case VoteResult.Pending:
          return;
      }
  }
  // Prop and ReadIndex are dropped (no leader); TimeoutNow is ignored.
}
