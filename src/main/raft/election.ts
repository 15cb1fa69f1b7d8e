// Leader election (Raft §5.2) with pre-vote (thesis §9.6) and leadership-transfer campaigns.
import { newMessage, TRANSFER_CONTEXT } from './messages.js';
import { VoteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { broadcastAppend } from './replication.js';
import type { Message, MessageType } from './types.js';
import { MessageType as MT, NONE } from './types.js';

/** pre: ask first whether we could win, without touching terms; transfer: the leader asked us to take over. */
export type CampaignKind = 'pre' | 'normal' | 'transfer';

export function campaign(r: Raft, kind: CampaignKind): void {
  let voteType: MessageType;
  let term: number;
  if (kind === 'pre') {
    r.becomePreCandidate();
    voteType = MT.PreVote;
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteType = MT.Vote;
    term = r.term;
  }
  // Our own vote counts at once: Vote requests leave only after the new term and vote are
  // durable (Raft.send), so any other grant, and so any win, comes after that.
  r.tracker.recordVote(r.id, true);
  if (r.tracker.tallyVotes() === VoteResult.Won) {
    // The only voter.
    if (kind === 'pre') campaign(r, 'normal');
    else {
      r.becomeLeader(false);
      broadcastAppend(r);
    }
    return;
  }
  const lastIndex = r.log.lastIndex();
  const lastTerm = r.log.lastTerm();
  for (const id of r.tracker.voters) {
    if (id === r.id) continue;
    const m = newMessage(voteType, id, term);
    m.index = lastIndex;
    m.logTerm = lastTerm;
    if (kind === 'transfer') m.context = TRANSFER_CONTEXT;
    r.send(m);
  }
}

/** A Vote or PreVote request; the term rules (and the leader lease) were applied already. */
export function handleVoteRequest(r: Raft, m: Message): void {
  const respType = m.type === MT.Vote ? MT.VoteResp : MT.PreVoteResp;
  const canVote =
    r.vote === m.from || // a repeat of the vote we cast
    (r.vote === NONE && r.lead === NONE) || // no vote and no known leader in this term
    (m.type === MT.PreVote && m.term > r.term); // a pre-vote for a future term
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // Answer with the request's term: for a pre-vote our own term may be older, and the
    // pre-candidate would drop an answer from an older term.
    r.send(newMessage(respType, m.from, m.term));
    if (m.type === MT.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    const resp = newMessage(respType, m.from, r.term);
    resp.reject = true;
    r.send(resp);
  }
}
