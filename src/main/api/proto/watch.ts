// etcdserverpb Watch service messages.

import { codec, type Init, type OneOf } from './codec.js';
import { decodeResponseHeader, emptyCodec, encodeResponseHeader, type Empty, type ResponseHeader } from './header.js';
import { decodeEvent, encodeEvent, type Event } from './mvcc.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

export const FilterType = { NOPUT: 0, NODELETE: 1 } as const;

export interface WatchCreateRequest {
  key: Buffer;
  rangeEnd: Buffer;
  startRevision: number;
  progressNotify: boolean;
  /** FilterType values */
  filters: number[];
  prevKv: boolean;
  watchId: number;
  fragment: boolean;
}

export function encodeWatchCreateRequest(w: Writer, m: Init<WatchCreateRequest>): void {
  w.bytes(1, m.key);
  w.bytes(2, m.rangeEnd);
  w.int(3, m.startRevision);
  w.bool(4, m.progressNotify);
  w.packedInts(5, m.filters);
  w.bool(6, m.prevKv);
  w.int(7, m.watchId);
  w.bool(8, m.fragment);
}

export function decodeWatchCreateRequest(r: Reader, end: number): WatchCreateRequest {
  const m: WatchCreateRequest = {
    key: EMPTY_BYTES, rangeEnd: EMPTY_BYTES, startRevision: 0, progressNotify: false,
    filters: [], prevKv: false, watchId: 0, fragment: false,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.key = r.bytes(tag); break;
      case 2: m.rangeEnd = r.bytes(tag); break;
      case 3: m.startRevision = r.int(tag); break;
      case 4: m.progressNotify = r.bool(tag); break;
      case 5: r.int32s(tag, m.filters); break;
      case 6: m.prevKv = r.bool(tag); break;
      case 7: m.watchId = r.int(tag); break;
      case 8: m.fragment = r.bool(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface WatchCancelRequest {
  watchId: number;
}

export function encodeWatchCancelRequest(w: Writer, m: Init<WatchCancelRequest>): void {
  w.int(1, m.watchId);
}

export function decodeWatchCancelRequest(r: Reader, end: number): WatchCancelRequest {
  const m: WatchCancelRequest = { watchId: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.watchId = r.int(tag);
    else r.skip(tag);
  }
  return m;
}

export type WatchProgressRequest = Empty;
const WatchProgressRequestCodec = emptyCodec('etcdserverpb.WatchProgressRequest');

export type WatchRequest = OneOf<'requestUnion', {
  createRequest: WatchCreateRequest;
  cancelRequest: WatchCancelRequest;
  progressRequest: WatchProgressRequest;
}>;

export function encodeWatchRequest(w: Writer, m: Init<WatchRequest>): void {
  if (m.createRequest !== undefined) w.message(1, m.createRequest, encodeWatchCreateRequest);
  else if (m.cancelRequest !== undefined) w.message(2, m.cancelRequest, encodeWatchCancelRequest);
  else if (m.progressRequest !== undefined) w.message(3, m.progressRequest, WatchProgressRequestCodec.encode);
}

export function decodeWatchRequest(r: Reader, end: number): WatchRequest {
  let m: WatchRequest = {};
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m = { requestUnion: 'createRequest', createRequest: r.message(tag, decodeWatchCreateRequest) }; break;
      case 2: m = { requestUnion: 'cancelRequest', cancelRequest: r.message(tag, decodeWatchCancelRequest) }; break;
      case 3: m = { requestUnion: 'progressRequest', progressRequest: r.message(tag, WatchProgressRequestCodec.decode) }; break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface WatchResponse {
  header?: ResponseHeader;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: Event[];
}

export function encodeWatchResponse(w: Writer, m: Init<WatchResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.int(2, m.watchId);
  w.bool(3, m.created);
  w.bool(4, m.canceled);
  w.int(5, m.compactRevision);
  w.string(6, m.cancelReason);
  w.bool(7, m.fragment);
  w.messages(11, m.events, encodeEvent);
}

export function decodeWatchResponse(r: Reader, end: number): WatchResponse {
  const m: WatchResponse = {
    header: undefined, watchId: 0, created: false, canceled: false,
    compactRevision: 0, cancelReason: '', fragment: false, events: [],
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.watchId = r.int(tag); break;
      case 3: m.created = r.bool(tag); break;
      case 4: m.canceled = r.bool(tag); break;
      case 5: m.compactRevision = r.int(tag); break;
      case 6: m.cancelReason = r.string(tag); break;
      case 7: m.fragment = r.bool(tag); break;
      case 11: m.events.push(r.message(tag, decodeEvent)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const WatchCreateRequestCodec = codec('etcdserverpb.WatchCreateRequest', encodeWatchCreateRequest, decodeWatchCreateRequest);
export const WatchCancelRequestCodec = codec('etcdserverpb.WatchCancelRequest', encodeWatchCancelRequest, decodeWatchCancelRequest);
export const WatchRequestCodec = codec('etcdserverpb.WatchRequest', encodeWatchRequest, decodeWatchRequest);
export const WatchResponseCodec = codec('etcdserverpb.WatchResponse', encodeWatchResponse, decodeWatchResponse);
export { WatchProgressRequestCodec };
