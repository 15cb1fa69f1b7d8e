// etcdserverpb Lease service messages. Lease IDs are bigint (exact int64); TTLs are numbers.

import { codec, type Init } from './codec.js';
import { decodeResponseHeader, emptyCodec, encodeResponseHeader, headerOnlyCodec, type Empty, type HeaderOnly, type ResponseHeader } from './header.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface LeaseGrantRequest {
  TTL: number;
  ID: bigint;
}

export function encodeLeaseGrantRequest(w: Writer, m: Init<LeaseGrantRequest>): void {
  w.int(1, m.TTL);
  w.id(2, m.ID);
}

export function decodeLeaseGrantRequest(r: Reader, end: number): LeaseGrantRequest {
  const m: LeaseGrantRequest = { TTL: 0, ID: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.TTL = r.int(tag); break;
      case 2: m.ID = r.id(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface LeaseGrantResponse {
  header?: ResponseHeader;
  ID: bigint;
  TTL: number;
  error: string;
}

export function encodeLeaseGrantResponse(w: Writer, m: Init<LeaseGrantResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.id(2, m.ID);
  w.int(3, m.TTL);
  w.string(4, m.error);
}

export function decodeLeaseGrantResponse(r: Reader, end: number): LeaseGrantResponse {
  const m: LeaseGrantResponse = { header: undefined, ID: 0n, TTL: 0, error: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.ID = r.id(tag); break;
      case 3: m.TTL = r.int(tag); break;
      case 4: m.error = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

/** LeaseRevokeRequest, LeaseKeepAliveRequest and LeaseStatus: just a lease ID. */
export interface LeaseId {
  ID: bigint;
}

export type LeaseRevokeRequest = LeaseId;
export type LeaseKeepAliveRequest = LeaseId;
export type LeaseStatus = LeaseId;
export type LeaseRevokeResponse = HeaderOnly;
export type LeaseLeasesRequest = Empty;

export function encodeLeaseId(w: Writer, m: Init<LeaseId>): void {
  w.id(1, m.ID);
}

export function decodeLeaseId(r: Reader, end: number): LeaseId {
  const m: LeaseId = { ID: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.ID = r.id(tag);
    else r.skip(tag);
  }
  return m;
}

export interface LeaseKeepAliveResponse {
  header?: ResponseHeader;
  ID: bigint;
  TTL: number;
}

export function encodeLeaseKeepAliveResponse(w: Writer, m: Init<LeaseKeepAliveResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.id(2, m.ID);
  w.int(3, m.TTL);
}

export function decodeLeaseKeepAliveResponse(r: Reader, end: number): LeaseKeepAliveResponse {
  const m: LeaseKeepAliveResponse = { header: undefined, ID: 0n, TTL: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.ID = r.id(tag); break;
      case 3: m.TTL = r.int(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface LeaseTimeToLiveRequest {
  ID: bigint;
  keys: boolean;
}

export function encodeLeaseTimeToLiveRequest(w: Writer, m: Init<LeaseTimeToLiveRequest>): void {
  w.id(1, m.ID);
  w.bool(2, m.keys);
}

export function decodeLeaseTimeToLiveRequest(r: Reader, end: number): LeaseTimeToLiveRequest {
  const m: LeaseTimeToLiveRequest = { ID: 0n, keys: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.ID = r.id(tag); break;
      case 2: m.keys = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface LeaseTimeToLiveResponse {
  header?: ResponseHeader;
  ID: bigint;
  TTL: number;
  grantedTTL: number;
  keys: Buffer[];
}

export function encodeLeaseTimeToLiveResponse(w: Writer, m: Init<LeaseTimeToLiveResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.id(2, m.ID);
  w.int(3, m.TTL);
  w.int(4, m.grantedTTL);
  w.bytesList(5, m.keys);
}

export function decodeLeaseTimeToLiveResponse(r: Reader, end: number): LeaseTimeToLiveResponse {
  const m: LeaseTimeToLiveResponse = { header: undefined, ID: 0n, TTL: 0, grantedTTL: 0, keys: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.ID = r.id(tag); break;
      case 3: m.TTL = r.int(tag); break;
      case 4: m.grantedTTL = r.int(tag); break;
      case 5: m.keys.push(r.bytes(tag)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface LeaseLeasesResponse {
  header?: ResponseHeader;
  leases: LeaseStatus[];
}

export function encodeLeaseLeasesResponse(w: Writer, m: Init<LeaseLeasesResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.messages(2, m.leases, encodeLeaseId);
}

export function decodeLeaseLeasesResponse(r: Reader, end: number): LeaseLeasesResponse {
  const m: LeaseLeasesResponse = { header: undefined, leases: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.leases.push(r.message(tag, decodeLeaseId)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const LeaseGrantRequestCodec = codec('etcdserverpb.LeaseGrantRequest', encodeLeaseGrantRequest, decodeLeaseGrantRequest);
export const LeaseGrantResponseCodec = codec('etcdserverpb.LeaseGrantResponse', encodeLeaseGrantResponse, decodeLeaseGrantResponse);
export const LeaseRevokeRequestCodec = codec<LeaseRevokeRequest>('etcdserverpb.LeaseRevokeRequest', encodeLeaseId, decodeLeaseId);
export const LeaseRevokeResponseCodec = headerOnlyCodec('etcdserverpb.LeaseRevokeResponse');
export const LeaseKeepAliveRequestCodec = codec<LeaseKeepAliveRequest>('etcdserverpb.LeaseKeepAliveRequest', encodeLeaseId, decodeLeaseId);
export const LeaseKeepAliveResponseCodec = codec('etcdserverpb.LeaseKeepAliveResponse', encodeLeaseKeepAliveResponse, decodeLeaseKeepAliveResponse);
export const LeaseTimeToLiveRequestCodec = codec('etcdserverpb.LeaseTimeToLiveRequest', encodeLeaseTimeToLiveRequest, decodeLeaseTimeToLiveRequest);
export const LeaseTimeToLiveResponseCodec = codec('etcdserverpb.LeaseTimeToLiveResponse', encodeLeaseTimeToLiveResponse, decodeLeaseTimeToLiveResponse);
export const LeaseLeasesRequestCodec = emptyCodec('etcdserverpb.LeaseLeasesRequest');
export const LeaseStatusCodec = codec<LeaseStatus>('etcdserverpb.LeaseStatus', encodeLeaseId, decodeLeaseId);
export const LeaseLeasesResponseCodec = codec('etcdserverpb.LeaseLeasesResponse', encodeLeaseLeasesResponse, decodeLeaseLeasesResponse);

