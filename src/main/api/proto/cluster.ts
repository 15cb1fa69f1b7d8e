// etcdserverpb Cluster service messages. Member IDs are bigint (exact uint64).

import { codec, type Init } from './codec.js';
import { decodeResponseHeader, encodeResponseHeader, type ResponseHeader } from './header.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface Member {
  ID: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export function encodeMember(w: Writer, m: Init<Member>): void {
  w.id(1, m.ID);
  w.string(2, m.name);
  w.strings(3, m.peerURLs);
  w.strings(4, m.clientURLs);
  w.bool(5, m.isLearner);
}

export function decodeMember(r: Reader, end: number): Member {
  const m: Member = { ID: 0n, name: '', peerURLs: [], clientURLs: [], isLearner: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.ID = r.uid(tag); break;
      case 2: m.name = r.string(tag); break;
      case 3: m.peerURLs.push(r.string(tag)); break;
      case 4: m.clientURLs.push(r.string(tag)); break;
      case 5: m.isLearner = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface MemberAddRequest {
  peerURLs: string[];
  isLearner: boolean;
}

export function encodeMemberAddRequest(w: Writer, m: Init<MemberAddRequest>): void {
  w.strings(1, m.peerURLs);
  w.bool(2, m.isLearner);
}

export function decodeMemberAddRequest(r: Reader, end: number): MemberAddRequest {
  const m: MemberAddRequest = { peerURLs: [], isLearner: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.peerURLs.push(r.string(tag)); break;
      case 2: m.isLearner = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface MemberAddResponse {
  header?: ResponseHeader;
  member?: Member;
  members: Member[];
}

export function encodeMemberAddResponse(w: Writer, m: Init<MemberAddResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.message(2, m.member, encodeMember);
  w.messages(3, m.members, encodeMember);
}

export function decodeMemberAddResponse(r: Reader, end: number): MemberAddResponse {
  const m: MemberAddResponse = { header: undefined, member: undefined, members: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.member = r.message(tag, decodeMember); break;
      case 3: m.members.push(r.message(tag, decodeMember)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

/** MemberRemoveRequest and MemberPromoteRequest: just a member ID. */
export interface MemberId {
  ID: bigint;
}

export type MemberRemoveRequest = MemberId;
export type MemberPromoteRequest = MemberId;

export function encodeMemberId(w: Writer, m: Init<MemberId>): void {
  w.id(1, m.ID);
}

export function decodeMemberId(r: Reader, end: number): MemberId {
  const m: MemberId = { ID: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.ID = r.uid(tag);
    else r.skip(tag);
  }
  return m;
}

export interface MemberUpdateRequest {
  ID: bigint;
  peerURLs: string[];
}

export function encodeMemberUpdateRequest(w: Writer, m: Init<MemberUpdateRequest>): void {
  w.id(1, m.ID);
  w.strings(2, m.peerURLs);
}

export function decodeMemberUpdateRequest(r: Reader, end: number): MemberUpdateRequest {
  const m: MemberUpdateRequest = { ID: 0n, peerURLs: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.ID = r.uid(tag); break;
      case 2: m.peerURLs.push(r.string(tag)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface MemberListRequest {
  linearizable: boolean;
}

export function encodeMemberListRequest(w: Writer, m: Init<MemberListRequest>): void {
  w.bool(1, m.linearizable);
}

export function decodeMemberListRequest(r: Reader, end: number): MemberListRequest {
  const m: MemberListRequest = { linearizable: false };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.linearizable = r.bool(tag);
    else r.skip(tag);
  }
  return m;
}

/** The Remove, Update, List and Promote responses: header and the resulting member list. */
export interface MembersResponse {
  header?: ResponseHeader;
  members: Member[];
}

export type MemberRemoveResponse = MembersResponse;
export type MemberUpdateResponse = MembersResponse;
export type MemberListResponse = MembersResponse;
export type MemberPromoteResponse = MembersResponse;

export function encodeMembersResponse(w: Writer, m: Init<MembersResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.messages(2, m.members, encodeMember);
}

export function decodeMembersResponse(r: Reader, end: number): MembersResponse {
  const m: MembersResponse = { header: undefined, members: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.members.push(r.message(tag, decodeMember)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const MemberCodec = codec('etcdserverpb.Member', encodeMember, decodeMember);
export const MemberAddRequestCodec = codec('etcdserverpb.MemberAddRequest', encodeMemberAddRequest, decodeMemberAddRequest);
export const MemberAddResponseCodec = codec('etcdserverpb.MemberAddResponse', encodeMemberAddResponse, decodeMemberAddResponse);
export const MemberRemoveRequestCodec = codec<MemberRemoveRequest>('etcdserverpb.MemberRemoveRequest', encodeMemberId, decodeMemberId);
export const MemberRemoveResponseCodec = codec<MemberRemoveResponse>('etcdserverpb.MemberRemoveResponse', encodeMembersResponse, decodeMembersResponse);
export const MemberUpdateRequestCodec = codec('etcdserverpb.MemberUpdateRequest', encodeMemberUpdateRequest, decodeMemberUpdateRequest);
export const MemberUpdateResponseCodec = codec<MemberUpdateResponse>('etcdserverpb.MemberUpdateResponse', encodeMembersResponse, decodeMembersResponse);
export const MemberListRequestCodec = codec('etcdserverpb.MemberListRequest', encodeMemberListRequest, decodeMemberListRequest);
export const MemberListResponseCodec = codec<MemberListResponse>('etcdserverpb.MemberListResponse', encodeMembersResponse, decodeMembersResponse);
export const MemberPromoteRequestCodec = codec<MemberPromoteRequest>('etcdserverpb.MemberPromoteRequest', encodeMemberId, decodeMemberId);
export const MemberPromoteResponseCodec = codec<MemberPromoteResponse>('etcdserverpb.MemberPromoteResponse', encodeMembersResponse, decodeMembersResponse);
