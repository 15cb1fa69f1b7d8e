// mvccpb: KeyValue and Event, the records shared by the KV and Watch APIs.

import { codec, type Init } from './codec.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

export function encodeKeyValue(w: Writer, m: Init<KeyValue>): void {
  w.bytes(1, m.key);
  w.int(2, m.createRevision);
  w.int(3, m.modRevision);
  w.int(4, m.version);
  w.bytes(5, m.value);
  w.id(6, m.lease);
}

export function decodeKeyValue(r: Reader, end: number): KeyValue {
  const m: KeyValue = { key: EMPTY_BYTES, createRevision: 0, modRevision: 0, version: 0, value: EMPTY_BYTES, lease: 0n };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.key = r.bytes(tag); break;
      case 2: m.createRevision = r.int(tag); break;
      case 3: m.modRevision = r.int(tag); break;
      case 4: m.version = r.int(tag); break;
      case 5: m.value = r.bytes(tag); break;
      case 6: m.lease = r.id(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const KeyValueCodec = codec('mvccpb.KeyValue', encodeKeyValue, decodeKeyValue);

export const EventType = { PUT: 0, DELETE: 1 } as const;

export interface Event {
  /** EventType */
  type: number;
  kv?: KeyValue;
  prevKv?: KeyValue;
}

export function encodeEvent(w: Writer, m: Init<Event>): void {
  w.int(1, m.type);
  w.message(2, m.kv, encodeKeyValue);
  w.message(3, m.prevKv, encodeKeyValue);
}

export function decodeEvent(r: Reader, end: number): Event {
  const m: Event = { type: 0, kv: undefined, prevKv: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.type = r.int32(tag); break;
      case 2: m.kv = r.message(tag, decodeKeyValue); break;
      case 3: m.prevKv = r.message(tag, decodeKeyValue); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export const EventCodec = codec('mvccpb.Event', encodeEvent, decodeEvent);
