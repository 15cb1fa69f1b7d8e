// What travels between members: the frames of a peer link as a typed union, and their encoding.
//
// Control and Raft frames carry msgpack; Ping/Pong carry a raw float64, snapshot chunks raw
// file bytes and SnapshotEnd a raw SHA-256. A Raft message is a positional array (field names
// would be most of the bytes of a heartbeat):
//   [type, from, to, term, index, logTerm, commit, reject, rejectHint, entries, snapshot, context]
// with entries flattened as [term, index, type, data, term, index, type, data, ...] and the
// snapshot as [index, term, voters, learners] or nil. Ids are always 64-bit msgpack integers.
import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import type { Entry, Message, NodeId, SnapshotMeta } from '../raft/types.js';
import { EntryType, MessageType } from '../raft/types.js';
import { FRAME_HEADER_BYTES, FrameType, smallFrame, writeFrameHeader } from './frame.js';

/** Bumped on any incompatible change; the Hello layout itself never changes. */
export const PROTOCOL_VERSION = 1;
const MAGIC = 'tsetcd-peer';

export const enum LinkKind {
  /** Raft messages from the dialer, pings answered by the listener. */
  Raft = 1,
  /** One snapshot from the dialer, acknowledged by the listener. */
  Snapshot = 2,
  /**
   * A member joining an existing cluster asks who is in it (etcd serves /members on its peer
   * port). The dialer knows no ids yet, so its Hello carries zeros.
   */
  Membership = 3,
}

/** What a membership link answers. */
export interface MembershipInfo {
  clusterId: bigint;
  members: { id: NodeId; name: string; peerUrls: string[]; clientUrls: string[]; isLearner: boolean }[];
}

export const enum RejectCode {
  Version = 1,
  ClusterMismatch = 2,
  WrongMember = 3,
  UnknownSender = 4,
  /** The snapshot's size or checksum did not match. */
  BadSnapshot = 5,
  /** The receiver could not write the snapshot. */
  SnapshotIo = 6,
}

export interface Hello {
  version: number;
  clusterId: bigint;
  from: NodeId;
  to: NodeId;
  link: LinkKind;
}

export type PeerFrame =
  | { type: FrameType.Hello; hello: Hello }
  | { type: FrameType.Accept }
  | { type: FrameType.Reject; code: RejectCode; detail: string }
  | { type: FrameType.Messages; messages: Message[] }
  | { type: FrameType.Ping; sentAt: number }
  | { type: FrameType.Pong; sentAt: number }
  | { type: FrameType.SnapshotHeader; message: Message; size: number }
  | { type: FrameType.SnapshotChunk; data: Buffer }
  | { type: FrameType.SnapshotEnd; sha256: Buffer }
  | { type: FrameType.SnapshotAck }
  | { type: FrameType.Members; info: MembershipInfo };

/** A frame that does not decode; the link that carried it is closed. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

// The project's msgpack settings (src/storage/msgpack.ts), in an instance of its own so that the
// wire format cannot change with the storage's. Decoded entry data and contexts are views into the
// frame's receive buffer (a copy per entry cost a third of the receiver's CPU); that buffer holds
// only what arrived with the frame, mostly entries bound for the same log.
const packr = new Packr({ int64AsType: 'bigint', useRecords: false, moreTypes: false });

const PING_BYTES = 8;
const MAX_REJECT_DETAIL = 512;
const SHA256_BYTES = 32;
const MAX_ID = (1n << 64n) - 1n;
const NO_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[];
const NO_VALUES: unknown[] = Object.freeze([]) as unknown as unknown[];
const ACCEPT_FRAME = smallFrame(FrameType.Accept);
const ACK_FRAME = smallFrame(FrameType.SnapshotAck);

// ---- encoding ----

/** A whole frame whose msgpack payload is `value`, packed behind a reserved header. */
function packFrame(type: FrameType, value: unknown): Buffer {
  const frame = packr.pack(value, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
  writeFrameHeader(frame, type, frame.length - FRAME_HEADER_BYTES);
  return frame;
}

export const encodeHello = (h: Hello): Buffer =>
  packFrame(FrameType.Hello, [MAGIC, h.version, h.clusterId, h.from, h.to, h.link]);

export const encodeAccept = (): Buffer => ACCEPT_FRAME;

/** `detail` is for the other side's log; it is cut to keep the frame small. */
export const encodeReject = (code: RejectCode, detail: string): Buffer =>
  packFrame(FrameType.Reject, [code, detail.slice(0, MAX_REJECT_DETAIL)]);

/** One frame carrying messages[start, end). */
export function encodeMessages(messages: readonly Message[], start: number, end: number): Buffer {
  const tuples = new Array<unknown[]>(end - start);
  for (let i = start; i < end; i++) tuples[i - start] = messageTuple(messages[i]!);
  return packFrame(FrameType.Messages, tuples);
}

/** `sentAt` is the sender's clock (ms); the pong echoes it, so the sender keeps no state per ping. */
export function encodePing(type: FrameType.Ping | FrameType.Pong, sentAt: number): Buffer {
  const frame = smallFrame(type, new Uint8Array(PING_BYTES));
  frame.writeDoubleBE(sentAt, FRAME_HEADER_BYTES);
  return frame;
}

export const encodeSnapshotHeader = (message: Message, size: number): Buffer =>
  packFrame(FrameType.SnapshotHeader, [messageTuple(message), size]);

export const encodeSnapshotEnd = (sha256: Uint8Array): Buffer => smallFrame(FrameType.SnapshotEnd, sha256);

export const encodeSnapshotAck = (): Buffer => ACK_FRAME;

export const encodeMembers = (info: MembershipInfo): Buffer =>
  packFrame(FrameType.Members, [
    info.clusterId,
    info.members.map((m) => [m.id, m.name, m.peerUrls, m.clientUrls, m.isLearner]),
  ]);

function messageTuple(m: Message): unknown[] {
  return [
    m.type,
    m.from,
    m.to,
    m.term,
    m.index,
    m.logTerm,
    m.commit,
    m.reject,
    m.rejectHint,
    m.entries.length === 0 ? NO_VALUES : flattenEntries(m.entries),
    m.snapshot === undefined ? null : [m.snapshot.index, m.snapshot.term, m.snapshot.conf.voters, m.snapshot.conf.learners],
    m.context ?? null,
  ];
}

function flattenEntries(entries: readonly Entry[]): unknown[] {
  const flat = new Array<unknown>(entries.length * 4);
  for (let i = 0, j = 0; i < entries.length; i++, j += 4) {
    const e = entries[i]!;
    flat[j] = e.term;
    flat[j + 1] = e.index;
    flat[j + 2] = e.type;
    flat[j + 3] = e.data;
  }
  return flat;
}

// ---- decoding: every field is checked, nothing half-decoded escapes ----

/** Decodes one frame's payload; throws WireError if it is not exactly what its type says. */
export function decodeFrame(type: number, payload: Buffer): PeerFrame {
  switch (type) {
    case FrameType.Hello:
      return { type, hello: decodeHello(unpack(payload)) };
    case FrameType.Accept:
    case FrameType.SnapshotAck:
      if (payload.length !== 0) throw new WireError(`frame ${type} has a payload`);
      return { type };
    case FrameType.Reject: {
      const v = tuple(unpack(payload), 2, 'reject');
      if (typeof v[1] !== 'string') throw new WireError('malformed reject');
      return { type, code: uint(v[0], 'reject code') as RejectCode, detail: v[1] };
    }
    case FrameType.Messages: {
      const v = unpack(payload);
      if (!Array.isArray(v)) throw new WireError('malformed message batch');
      const messages = new Array<Message>(v.length);
      for (let i = 0; i < v.length; i++) messages[i] = decodeMessage(v[i]);
      return { type, messages };
    }
    case FrameType.Ping:
    case FrameType.Pong: {
      if (payload.length !== PING_BYTES) throw new WireError('malformed ping');
      const sentAt = payload.readDoubleBE(0);
      if (!Number.isFinite(sentAt)) throw new WireError('malformed ping');
      return { type, sentAt };
    }
    case FrameType.SnapshotHeader: {
      const v = tuple(unpack(payload), 2, 'snapshot header');
      return { type, message: decodeMessage(v[0]), size: uint(v[1], 'snapshot size') };
    }
    case FrameType.SnapshotChunk:
      return { type, data: payload };
    case FrameType.SnapshotEnd:
      if (payload.length !== SHA256_BYTES) throw new WireError('malformed snapshot end');
      return { type, sha256: payload };
    case FrameType.Members:
      return { type, info: decodeMembers(unpack(payload)) };
    default:
      throw new WireError(`unknown frame type ${type}`);
  }
}

function unpack(payload: Buffer): unknown {
  try {
    return packr.unpack(payload) as unknown;
  } catch (err) {
    throw new WireError(`undecodable msgpack: ${(err as Error).message}`);
  }
}

function decodeHello(value: unknown): Hello {
  const v = tuple(value, 6, 'hello');
  if (v[0] !== MAGIC) throw new WireError('not a tsetcd peer hello');
  const link = uint(v[5], 'link kind');
  if (link !== LinkKind.Raft && link !== LinkKind.Snapshot && link !== LinkKind.Membership) {
    throw new WireError(`unknown link kind ${link}`);
  }
  return { version: uint(v[1], 'version'), clusterId: id(v[2], 'cluster id'), from: id(v[3], 'from'), to: id(v[4], 'to'), link };
}

function decodeMembers(value: unknown): MembershipInfo {
  const v = tuple(value, 2, 'members');
  if (!Array.isArray(v[1])) throw new WireError('malformed members');
  const members = v[1].map((m: unknown) => {
    const f = tuple(m, 5, 'member');
    if (typeof f[1] !== 'string' || typeof f[4] !== 'boolean') throw new WireError('malformed member');
    return { id: id(f[0], 'member id'), name: f[1], peerUrls: strings(f[2], 'peer urls'), clientUrls: strings(f[3], 'client urls'), isLearner: f[4] };
  });
  return { clusterId: id(v[0], 'cluster id'), members };
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) throw new WireError(`malformed ${what}`);
  return value as string[];
}

function decodeMessage(value: unknown): Message {
  const v = tuple(value, 12, 'message');
  const type = uint(v[0], 'message type');
  if (type > MessageType.PreVoteResp) throw new WireError(`unknown message type ${type}`);
  if (typeof v[7] !== 'boolean') throw new WireError('malformed reject flag');
  const message: Message = {
    type: type as MessageType,
    from: id(v[1], 'from'),
    to: id(v[2], 'to'),
    term: uint(v[3], 'term'),
    index: uint(v[4], 'index'),
    logTerm: uint(v[5], 'logTerm'),
    commit: uint(v[6], 'commit'),
    reject: v[7],
    rejectHint: uint(v[8], 'rejectHint'),
    entries: decodeEntries(v[9]),
  };
  if (v[10] !== null) message.snapshot = decodeSnapshotMeta(v[10]);
  if (v[11] !== null) message.context = bytes(v[11], 'context');
  return message;
}

function decodeEntries(value: unknown): Entry[] {
  if (!Array.isArray(value) || value.length % 4 !== 0) throw new WireError('malformed entries');
  if (value.length === 0) return NO_ENTRIES;
  const entries = new Array<Entry>(value.length / 4);
  for (let i = 0, j = 0; j < value.length; i++, j += 4) {
    const type = value[j + 2];
    if (type !== EntryType.Normal && type !== EntryType.ConfChange) throw new WireError('malformed entry type');
    entries[i] = { term: uint(value[j], 'entry term'), index: uint(value[j + 1], 'entry index'), type, data: bytes(value[j + 3], 'entry data') };
  }
  return entries;
}

function decodeSnapshotMeta(value: unknown): SnapshotMeta {
  const v = tuple(value, 4, 'snapshot');
  return { index: uint(v[0], 'snapshot index'), term: uint(v[1], 'snapshot term'), conf: { voters: ids(v[2], 'voters'), learners: ids(v[3], 'learners') } };
}

function tuple(value: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(value) || value.length !== length) throw new WireError(`malformed ${what}`);
  return value;
}

function uint(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new WireError(`malformed ${what}`);
}

function id(value: unknown, what: string): bigint {
  if (typeof value === 'bigint' && value >= 0n && value <= MAX_ID) return value;
  throw new WireError(`malformed ${what}`);
}

function ids(value: unknown, what: string): NodeId[] {
  if (!Array.isArray(value)) throw new WireError(`malformed ${what}`);
  return value.map((v) => id(v, what));
}

function bytes(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new WireError(`malformed ${what}`);
}
