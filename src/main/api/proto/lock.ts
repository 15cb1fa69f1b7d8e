// v3lockpb: the Lock service messages.

import { codec, type Init } from './codec.js';
import { decodeResponseHeader, encodeResponseHeader, headerOnlyCodec, type HeaderOnly, type ResponseHeader } from './header.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface LockRequest {
  name: Buffer;
  lease: bigint;
}

export function encodeLockRequest(w: Writer, m: Init<LockRequest>): void {
  w.bytes(1, m.name);
  w.id(2, m.lease);
}

export function decodeLockRequest(r: Reader, end: number): LockRequest {
  const m: LockRequest = { name: EMPTY_BYTES, lease: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.bytes(tag); break;
      case 2: m.lease = r.id(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface LockResponse {
  header?: ResponseHeader;
  key: Buffer;
}

export function encodeLockResponse(w: Writer, m: Init<LockResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.bytes(2, m.key);
}

export function decodeLockResponse(r: Reader, end: number): LockResponse {
  const m: LockResponse = { header: undefined, key: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.key = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface UnlockRequest {
  key: Buffer;
}

export function encodeUnlockRequest(w: Writer, m: Init<UnlockRequest>): void {
  w.bytes(1, m.key);
}

export function decodeUnlockRequest(r: Reader, end: number): UnlockRequest {
  const m: UnlockRequest = { key: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.key = r.bytes(tag);
    else r.skip(tag);
  }
  return m;
}

export type UnlockResponse = HeaderOnly;

export const LockRequestCodec = codec('v3lockpb.LockRequest', encodeLockRequest, decodeLockRequest);
export const LockResponseCodec = codec('v3lockpb.LockResponse', encodeLockResponse, decodeLockResponse);
export const UnlockRequestCodec = codec('v3lockpb.UnlockRequest', encodeUnlockRequest, decodeUnlockRequest);
export const UnlockResponseCodec = headerOnlyCodec('v3lockpb.UnlockResponse');
