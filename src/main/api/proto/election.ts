// v3electionpb: the Election service messages.

import { codec, type Init } from './codec.js';
import { decodeResponseHeader, encodeResponseHeader, headerOnlyCodec, type HeaderOnly, type ResponseHeader } from './header.js';
import { decodeKeyValue, encodeKeyValue, type KeyValue } from './mvcc.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface LeaderKey {
  name: Buffer;
  key: Buffer;
  rev: number;
  lease: bigint;
}

export function encodeLeaderKey(w: Writer, m: Init<LeaderKey>): void {
  w.bytes(1, m.name);
  w.bytes(2, m.key);
  w.int(3, m.rev);
  w.id(4, m.lease);
}

export function decodeLeaderKey(r: Reader, end: number): LeaderKey {
  const m: LeaderKey = { name: EMPTY_BYTES, key: EMPTY_BYTES, rev: 0, lease: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.bytes(tag); break;
      case 2: m.key = r.bytes(tag); break;
      case 3: m.rev = r.int(tag); break;
      case 4: m.lease = r.id(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface CampaignRequest {
  name: Buffer;
  lease: bigint;
  value: Buffer;
}

export function encodeCampaignRequest(w: Writer, m: Init<CampaignRequest>): void {
  w.bytes(1, m.name);
  w.id(2, m.lease);
  w.bytes(3, m.value);
}

export function decodeCampaignRequest(r: Reader, end: number): CampaignRequest {
  const m: CampaignRequest = { name: EMPTY_BYTES, lease: 0n, value: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.bytes(tag); break;
      case 2: m.lease = r.id(tag); break;
      case 3: m.value = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface CampaignResponse {
  header?: ResponseHeader;
  leader?: LeaderKey;
}

export function encodeCampaignResponse(w: Writer, m: Init<CampaignResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.message(2, m.leader, encodeLeaderKey);
}

export function decodeCampaignResponse(r: Reader, end: number): CampaignResponse {
  const m: CampaignResponse = { header: undefined, leader: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.leader = r.message(tag, decodeLeaderKey); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface LeaderRequest {
  name: Buffer;
}

export function encodeLeaderRequest(w: Writer, m: Init<LeaderRequest>): void {
  w.bytes(1, m.name);
}

export function decodeLeaderRequest(r: Reader, end: number): LeaderRequest {
  const m: LeaderRequest = { name: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.name = r.bytes(tag);
    else r.skip(tag);
  }
  return m;
}

export interface LeaderResponse {
  header?: ResponseHeader;
  kv?: KeyValue;
}

export function encodeLeaderResponse(w: Writer, m: Init<LeaderResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.message(2, m.kv, encodeKeyValue);
}

export function decodeLeaderResponse(r: Reader, end: number): LeaderResponse {
  const m: LeaderResponse = { header: undefined, kv: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.kv = r.message(tag, decodeKeyValue); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface ResignRequest {
  leader?: LeaderKey;
}

export function encodeResignRequest(w: Writer, m: Init<ResignRequest>): void {
  w.message(1, m.leader, encodeLeaderKey);
}

export function decodeResignRequest(r: Reader, end: number): ResignRequest {
  const m: ResignRequest = { leader: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.leader = r.message(tag, decodeLeaderKey);
    else r.skip(tag);
  }
  return m;
}

export interface ProclaimRequest {
  leader?: LeaderKey;
  value: Buffer;
}

export function encodeProclaimRequest(w: Writer, m: Init<ProclaimRequest>): void {
  w.message(1, m.leader, encodeLeaderKey);
  w.bytes(2, m.value);
}

export function decodeProclaimRequest(r: Reader, end: number): ProclaimRequest {
  const m: ProclaimRequest = { leader: undefined, value: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.leader = r.message(tag, decodeLeaderKey); break;
      case 2: m.value = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export type ResignResponse = HeaderOnly;
export type ProclaimResponse = HeaderOnly;

const pb = 'v3electionpb.';
export const LeaderKeyCodec = codec(pb + 'LeaderKey', encodeLeaderKey, decodeLeaderKey);
export const CampaignRequestCodec = codec(pb + 'CampaignRequest', encodeCampaignRequest, decodeCampaignRequest);
export const CampaignResponseCodec = codec(pb + 'CampaignResponse', encodeCampaignResponse, decodeCampaignResponse);
export const LeaderRequestCodec = codec(pb + 'LeaderRequest', encodeLeaderRequest, decodeLeaderRequest);
export const LeaderResponseCodec = codec(pb + 'LeaderResponse', encodeLeaderResponse, decodeLeaderResponse);
export const ResignRequestCodec = codec(pb + 'ResignRequest', encodeResignRequest, decodeResignRequest);
export const ResignResponseCodec = headerOnlyCodec(pb + 'ResignResponse');
export const ProclaimRequestCodec = codec(pb + 'ProclaimRequest', encodeProclaimRequest, decodeProclaimRequest);
export const ProclaimResponseCodec = headerOnlyCodec(pb + 'ProclaimResponse');
