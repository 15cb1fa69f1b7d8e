// How a service is described (method names, kinds, codecs) and what its handlers look like.

import type { IncomingHttpHeaders } from 'node:http2';
import type { Init, MessageCodec } from '../proto/codec.js';

export type MethodKind = 'unary' | 'serverStream' | 'bidi';

export interface MethodDefinition<Req, Res, K extends MethodKind = MethodKind> {
  readonly kind: K;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
}

export type MethodTable = Record<string, MethodDefinition<unknown, unknown>>;

export interface ServiceDefinition<M extends MethodTable = MethodTable> {
  /** Fully qualified service name, e.g. `etcdserverpb.KV`. */
  readonly name: string;
  readonly methods: M;
}

export function unary<Req, Res>(request: MessageCodec<Req>, response: MessageCodec<Res>): MethodDefinition<Req, Res, 'unary'> {
  return { kind: 'unary', request, response };
}

export function serverStream<Req, Res>(request: MessageCodec<Req>, response: MessageCodec<Res>): MethodDefinition<Req, Res, 'serverStream'> {
  return { kind: 'serverStream', request, response };
}

export function bidi<Req, Res>(request: MessageCodec<Req>, response: MessageCodec<Res>): MethodDefinition<Req, Res, 'bidi'> {
  return { kind: 'bidi', request, response };
}

export function service<M extends MethodTable>(name: string, methods: M): ServiceDefinition<M> {
  return { name, methods };
}

/** What every handler gets besides the request. */
export interface CallContext {
  /** `/package.Service/Method` */
  readonly path: string;
  /** Request headers (gRPC metadata), e.g. `token` for etcd auth. */
  readonly metadata: IncomingHttpHeaders;
  /** Absolute deadline in Date.now() terms, from grpc-timeout; undefined if none. */
  readonly deadline: number | undefined;
  /**
   * Aborted when the call ends early: the client cancelled, the deadline passed, or the server is
   * closing. The reason is a GrpcError. Created on first access.
   */
  readonly signal: AbortSignal;
  /** True once the call ended early (same moment the signal aborts). */
  readonly cancelled: boolean;
}

/** Returns the response, or throws (a GrpcError, or anything: see toGrpcError). */
export type UnaryHandler<Req, Res> = (request: Req, call: CallContext) => Init<Res> | Promise<Init<Res>>;

/** The sending half of a streaming call. */
export interface ResponseStream<Res> extends CallContext {
  /**
   * Queues a message. Returns false when the stream's send buffer is full: wait for `drained()`
   * before writing more. After the call ended, messages are dropped and false is returned.
   */
  write(message: Init<Res>): boolean;
  /**
   * Queues messages already encoded and framed (uncompressed gRPC messages, one after another), with
   * one write; `done` is called once their bytes are no longer needed (sent, or dropped).
   */
  writeMessages(messages: Uint8Array, done: () => void): boolean;
  /** Resolves when the send buffer has room; rejects with the reason once the call has ended. */
  drained(): Promise<void>;
}

/** The handler's promise resolving ends the call with OK; throwing ends it with that error. */
export type ServerStreamHandler<Req, Res> = (request: Req, call: ResponseStream<Res>) => void | Promise<void>;

/**
 * A bidirectional call: iterate it for the client's messages (iteration ends when the client
 * half-closes and throws the reason if the call ends early; reading pauses while the handler is
 * behind) and write responses at any time.
 */
export interface BidiCall<Req, Res> extends ResponseStream<Res>, AsyncIterable<Req> {}

export type BidiHandler<Req, Res> = (call: BidiCall<Req, Res>) => void | Promise<void>;

export type HandlerFor<M> =
  M extends MethodDefinition<infer Req, infer Res, 'unary'> ? UnaryHandler<Req, Res>
  : M extends MethodDefinition<infer Req, infer Res, 'serverStream'> ? ServerStreamHandler<Req, Res>
  : M extends MethodDefinition<infer Req, infer Res, 'bidi'> ? BidiHandler<Req, Res>
  : never;

/** Handlers by method name; a method left out answers UNIMPLEMENTED. */
export type ServiceHandlers<S extends ServiceDefinition> = { readonly [K in keyof S['methods']]?: HandlerFor<S['methods'][K]> };
