// The shape every message codec shares, the types that describe messages, and one-call
// encode/decode helpers.

import { ProtoDecodeError, Reader } from './reader.js';
import { Writer } from './writer.js';

/**
 * What an encoder accepts for a message type T: every field may be left out (it is then the
 * proto3 default and not written), recursively; `bytes` may be any Uint8Array.
 */
export type Init<T> = T extends Uint8Array
  ? Uint8Array
  : T extends bigint | number | string | boolean | undefined
    ? T
    : T extends readonly (infer E)[]
      ? readonly Init<E>[]
      : { readonly [K in keyof T]?: Init<T[K]> };

/**
 * A proto `oneof` as a discriminated union: `Case` names the member that is set (the camelCase
 * field name, as protobufjs's `oneofs: true` does) and only that member's field is present.
 * Decoders fill the discriminator; encoders look only at which member field is defined.
 */
export type OneOf<Case extends string, Members extends object> =
  | {
      [K in keyof Members]: { [C in Case]: K } & { [F in K]: Members[K] } & {
        [F in Exclude<keyof Members, K>]?: undefined;
      };
    }[keyof Members]
  | ({ [C in Case]?: undefined } & { [F in keyof Members]?: undefined });

export type Encoder<T> = (w: Writer, m: Init<T>) => void;
/** Decodes one message from `r.pos` up to `end`. */
export type Decoder<T> = (r: Reader, end: number) => T;

/**
 * Everything the transport needs to move messages of type T. (Method syntax on purpose: it lets a
 * MessageCodec<PutRequest> stand where a MessageCodec<unknown> is expected, e.g. in a service table.)
 */
export interface MessageCodec<T> {
  /** Fully qualified protobuf name, e.g. `etcdserverpb.PutRequest`. */
  readonly name: string;
  encode(w: Writer, m: Init<T>): void;
  decode(r: Reader, end: number): T;
}

export function codec<T>(name: string, encode: Encoder<T>, decode: Decoder<T>): MessageCodec<T> {
  return { name, encode, decode };
}

// Encoding and decoding are synchronous and never re-entered, so one writer and one reader serve
// the whole thread (each worker thread gets its own module instance).
const sharedWriter = new Writer();
const sharedReader = new Reader();

/** The writer behind `encode`; the gRPC transport encodes frames into the same slab. */
export function slabWriter(): Writer {
  return sharedWriter;
}

/** Encodes a message; the result is a view into a shared slab (see Writer). */
export function encode<T>(c: MessageCodec<T>, m: Init<T>): Buffer {
  sharedWriter.begin();
  c.encode(sharedWriter, m);
  return sharedWriter.finish();
}

/** Decodes a whole buffer as one message; throws ProtoDecodeError on malformed input. */
export function decode<T>(c: MessageCodec<T>, buf: Buffer): T {
  const r = sharedReader.reset(buf);
  const m = c.decode(r, buf.length);
  if (r.pos !== buf.length) throw new ProtoDecodeError('message overruns its end', r.pos);
  return m;
}
