// Building Raft messages, and the two contexts the core puts on the wire itself.
import type { Entry, Message, NodeId } from './types.js';
import { MessageType, NONE } from './types.js';

/** Shared by every message without entries; frozen so nobody can append to it by mistake. */
export const NO_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[];

/** A message with every field at its zero value; `from` is filled in when it is sent. */
export function newMessage(type: MessageType, to: NodeId, term: number): Message {
  return {
    type,
    from: NONE,
    to,
    term,
    index: 0,
    logTerm: 0,
    entries: NO_ENTRIES,
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

/** Messages only a leader sends (to its followers). */
export function isFromLeader(m: Message): boolean {
  return m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
}

/**
 * Context of a Vote sent by a leadership-transfer campaign. Voters grant it even while
 * they still have a live leader (the leader asked for the transfer itself).
 */
export const TRANSFER_CONTEXT: Uint8Array = new TextEncoder().encode('CampaignTransfer');

export function isTransferCampaign(context: Uint8Array | undefined): boolean {
  if (context === undefined || context.length !== TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < context.length; i++) if (context[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

const ROUND_CONTEXT_BYTES = 9;
const ROUND_CONTEXT_TAG = 0x52; // 'R'

/** Heartbeat context of a ReadIndex confirmation round: a tag byte and the round number. */
export function encodeReadRound(round: number): Uint8Array {
  const ctx = new Uint8Array(ROUND_CONTEXT_BYTES);
  ctx[0] = ROUND_CONTEXT_TAG;
  new DataView(ctx.buffer).setFloat64(1, round);
  return ctx;
}

/** The round a HeartbeatResp acknowledges, or 0 if its context is not a read round. */
export function decodeReadRound(context: Uint8Array | undefined): number {
  if (context === undefined || context.length !== ROUND_CONTEXT_BYTES || context[0] !== ROUND_CONTEXT_TAG) return 0;
  const round = new DataView(context.buffer, context.byteOffset, context.byteLength).getFloat64(1);
  return Number.isSafeInteger(round) && round > 0 ? round : 0;
}
