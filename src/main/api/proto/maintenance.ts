// etcdserverpb Maintenance service messages.

import { codec, type Init } from './codec.js';
import { decodeResponseHeader, emptyCodec, encodeResponseHeader, headerOnlyCodec, type Empty, type HeaderOnly, type ResponseHeader } from './header.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;

export interface AlarmRequest {
  /** AlarmAction */
  action: number;
  memberID: bigint;
  /** AlarmType */
  alarm: number;
}

export function encodeAlarmRequest(w: Writer, m: Init<AlarmRequest>): void {
  w.int(1, m.action);
  w.id(2, m.memberID);
  w.int(3, m.alarm);
}

export function decodeAlarmRequest(r: Reader, end: number): AlarmRequest {
  const m: AlarmRequest = { action: 0, memberID: 0n, alarm: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.action = r.int32(tag); break;
      case 2: m.memberID = r.uid(tag); break;
      case 3: m.alarm = r.int32(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AlarmMember {
  memberID: bigint;
  /** AlarmType */
  alarm: number;
}

export function encodeAlarmMember(w: Writer, m: Init<AlarmMember>): void {
  w.id(1, m.memberID);
  w.int(2, m.alarm);
}

export function decodeAlarmMember(r: Reader, end: number): AlarmMember {
  const m: AlarmMember = { memberID: 0n, alarm: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.memberID = r.uid(tag); break;
      case 2: m.alarm = r.int32(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AlarmResponse {
  header?: ResponseHeader;
  alarms: AlarmMember[];
}

export function encodeAlarmResponse(w: Writer, m: Init<AlarmResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.messages(2, m.alarms, encodeAlarmMember);
}

export function decodeAlarmResponse(r: Reader, end: number): AlarmResponse {
  const m: AlarmResponse = { header: undefined, alarms: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.alarms.push(r.message(tag, decodeAlarmMember)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export type StatusRequest = Empty;

export interface StatusResponse {
  header?: ResponseHeader;
  version: string;
  dbSize: number;
  leader: bigint;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}

export function encodeStatusResponse(w: Writer, m: Init<StatusResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.string(2, m.version);
  w.int(3, m.dbSize);
  w.id(4, m.leader);
  w.int(5, m.raftIndex);
  w.int(6, m.raftTerm);
  w.int(7, m.raftAppliedIndex);
  w.strings(8, m.errors);
  w.int(9, m.dbSizeInUse);
  w.bool(10, m.isLearner);
}

export function decodeStatusResponse(r: Reader, end: number): StatusResponse {
  const m: StatusResponse = {
    header: undefined, version: '', dbSize: 0, leader: 0n, raftIndex: 0, raftTerm: 0,
    raftAppliedIndex: 0, errors: [], dbSizeInUse: 0, isLearner: false,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.version = r.string(tag); break;
      case 3: m.dbSize = r.int(tag); break;
      case 4: m.leader = r.uid(tag); break;
      case 5: m.raftIndex = r.uint(tag); break;
      case 6: m.raftTerm = r.uint(tag); break;
      case 7: m.raftAppliedIndex = r.uint(tag); break;
      case 8: m.errors.push(r.string(tag)); break;
      case 9: m.dbSizeInUse = r.int(tag); break;
      case 10: m.isLearner = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export type DefragmentRequest = Empty;
export type DefragmentResponse = HeaderOnly;
export type HashRequest = Empty;

export interface HashResponse {
  header?: ResponseHeader;
  /** uint32 */
  hash: number;
}

export function encodeHashResponse(w: Writer, m: Init<HashResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.int(2, m.hash);
}

export function decodeHashResponse(r: Reader, end: number): HashResponse {
  const m: HashResponse = { header: undefined, hash: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.hash = r.uint32(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface HashKVRequest {
  revision: number;
}

export function encodeHashKVRequest(w: Writer, m: Init<HashKVRequest>): void {
  w.int(1, m.revision);
}

export function decodeHashKVRequest(r: Reader, end: number): HashKVRequest {
  const m: HashKVRequest = { revision: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.revision = r.int(tag);
    else r.skip(tag);
  }
  return m;
}

export interface HashKVResponse {
  header?: ResponseHeader;
  /** uint32 */
  hash: number;
  compactRevision: number;
}

export function encodeHashKVResponse(w: Writer, m: Init<HashKVResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.int(2, m.hash);
  w.int(3, m.compactRevision);
}

export function decodeHashKVResponse(r: Reader, end: number): HashKVResponse {
  const m: HashKVResponse = { header: undefined, hash: 0, compactRevision: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.hash = r.uint32(tag); break;
      case 3: m.compactRevision = r.int(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export type SnapshotRequest = Empty;

export interface SnapshotResponse {
  header?: ResponseHeader;
  remainingBytes: number;
  blob: Buffer;
}

export function encodeSnapshotResponse(w: Writer, m: Init<SnapshotResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.int(2, m.remainingBytes);
  w.bytes(3, m.blob);
}

export function decodeSnapshotResponse(r: Reader, end: number): SnapshotResponse {
  const m: SnapshotResponse = { header: undefined, remainingBytes: 0, blob: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.remainingBytes = r.uint(tag); break;
      case 3: m.blob = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface MoveLeaderRequest {
  targetID: bigint;
}

export function encodeMoveLeaderRequest(w: Writer, m: Init<MoveLeaderRequest>): void {
  w.id(1, m.targetID);
}

export function decodeMoveLeaderRequest(r: Reader, end: number): MoveLeaderRequest {
  const m: MoveLeaderRequest = { targetID: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.targetID = r.uid(tag);
    else r.skip(tag);
  }
  return m;
}

export type MoveLeaderResponse = HeaderOnly;

export const DowngradeAction = { VALIDATE: 0, ENABLE: 1, CANCEL: 2 } as const;

export interface DowngradeRequest {
  /** DowngradeAction */
  action: number;
  version: string;
}

export function encodeDowngradeRequest(w: Writer, m: Init<DowngradeRequest>): void {
  w.int(1, m.action);
  w.string(2, m.version);
}

export function decodeDowngradeRequest(r: Reader, end: number): DowngradeRequest {
  const m: DowngradeRequest = { action: 0, version: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.action = r.int32(tag); break;
      case 2: m.version = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface DowngradeResponse {
  header?: ResponseHeader;
  version: string;
}

export function encodeDowngradeResponse(w: Writer, m: Init<DowngradeResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.string(2, m.version);
}

export function decodeDowngradeResponse(r: Reader, end: number): DowngradeResponse {
  const m: DowngradeResponse = { header: undefined, version: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.version = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const AlarmRequestCodec = codec('etcdserverpb.AlarmRequest', encodeAlarmRequest, decodeAlarmRequest);
export const AlarmMemberCodec = codec('etcdserverpb.AlarmMember', encodeAlarmMember, decodeAlarmMember);
export const AlarmResponseCodec = codec('etcdserverpb.AlarmResponse', encodeAlarmResponse, decodeAlarmResponse);
export const StatusRequestCodec = emptyCodec('etcdserverpb.StatusRequest');
export const StatusResponseCodec = codec('etcdserverpb.StatusResponse', encodeStatusResponse, decodeStatusResponse);
export const DefragmentRequestCodec = emptyCodec('etcdserverpb.DefragmentRequest');
export const DefragmentResponseCodec = headerOnlyCodec('etcdserverpb.DefragmentResponse');
export const HashRequestCodec = emptyCodec('etcdserverpb.HashRequest');
export const HashResponseCodec = codec('etcdserverpb.HashResponse', encodeHashResponse, decodeHashResponse);
export const HashKVRequestCodec = codec('etcdserverpb.HashKVRequest', encodeHashKVRequest, decodeHashKVRequest);
export const HashKVResponseCodec = codec('etcdserverpb.HashKVResponse', encodeHashKVResponse, decodeHashKVResponse);
export const SnapshotRequestCodec = emptyCodec('etcdserverpb.SnapshotRequest');
export const SnapshotResponseCodec = codec('etcdserverpb.SnapshotResponse', encodeSnapshotResponse, decodeSnapshotResponse);
export const MoveLeaderRequestCodec = codec('etcdserverpb.MoveLeaderRequest', encodeMoveLeaderRequest, decodeMoveLeaderRequest);
export const MoveLeaderResponseCodec = headerOnlyCodec('etcdserverpb.MoveLeaderResponse');
export const DowngradeRequestCodec = codec('etcdserverpb.DowngradeRequest', encodeDowngradeRequest, decodeDowngradeRequest);
export const DowngradeResponseCodec = codec('etcdserverpb.DowngradeResponse', encodeDowngradeResponse, decodeDowngradeResponse);
