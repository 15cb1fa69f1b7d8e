// etcdserverpb.ResponseHeader, and the two shapes many messages share: no fields at all, and
// only a header.

import { codec, type Init, type MessageCodec } from './codec.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export function encodeResponseHeader(w: Writer, m: Init<ResponseHeader>): void {
  w.id(1, m.clusterId);
  w.id(2, m.memberId);
  w.int(3, m.revision);
  w.int(4, m.raftTerm);
}

export function decodeResponseHeader(r: Reader, end: number): ResponseHeader {
  const m: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.clusterId = r.uid(tag); break;
      case 2: m.memberId = r.uid(tag); break;
      case 3: m.revision = r.int(tag); break;
      case 4: m.raftTerm = r.uint(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const ResponseHeaderCodec = codec('etcdserverpb.ResponseHeader', encodeResponseHeader, decodeResponseHeader);

/** A message without fields (StatusRequest, HashRequest, ...). Unknown fields are skipped. */
export type Empty = Record<string, never>;

function encodeEmpty(): void {}

function decodeEmpty(r: Reader, end: number): Empty {
  while (r.pos < end) r.skip(r.tag());
  return {};
}

export function emptyCodec(name: string): MessageCodec<Empty> {
  return codec(name, encodeEmpty, decodeEmpty);
}

/** A response that carries only the header (CompactionResponse, LeaseRevokeResponse, ...). */
export interface HeaderOnly {
  header?: ResponseHeader;
}

function encodeHeaderOnly(w: Writer, m: Init<HeaderOnly>): void {
  w.message(1, m.header, encodeResponseHeader);
}

function decodeHeaderOnly(r: Reader, end: number): HeaderOnly {
  const m: HeaderOnly = { header: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.header = r.message(tag, decodeResponseHeader);
    else r.skip(tag);
  }
  return m;
}

export function headerOnlyCodec(name: string): MessageCodec<HeaderOnly> {
  return codec(name, encodeHeaderOnly, decodeHeaderOnly);
}
