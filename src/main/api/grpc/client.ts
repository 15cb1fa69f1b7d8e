// A lean gRPC client on node:http2: one HTTP/2 session per channel carrying many concurrent
// streams, the 5-byte length-prefixed framing, and grpc-status/grpc-message → GrpcError.
// Messages are encoded with the project's codecs straight into the shared slab (no copies).
//
// Used by the load generator (chosen over @grpc/grpc-js: less CPU per call on the same machine as
// the server, measured with test/bench-tool/grpc-client-comparison.ts) and by a follower that
// forwards lease keepalives to the leader. No compression, TLS, deadlines or retries.

import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { MessageCodec } from '../proto/codec.js';
import { PREFIX_BYTES } from './framing.js';
import { GrpcCode, GrpcError } from '../../errors.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

/** A method's path and the request headers for it, built once. */
export interface GrpcMethod<Req, Res> {
  readonly headers: OutgoingHttpHeaders;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
}

type RequestOf<M> = M extends { readonly request: MessageCodec<infer T> } ? T : never;
type ResponseOf<M> = M extends { readonly response: MessageCodec<infer T> } ? T : never;

/** `grpcMethod(KVService, 'Put')`, from the project's service tables. */
export function grpcMethod<
  S extends { readonly name: string; readonly methods: Record<string, { readonly request: MessageCodec<unknown>; readonly response: MessageCodec<unknown> }> },
  K extends keyof S['methods'] & string,
>(service: S, name: K): GrpcMethod<RequestOf<S['methods'][K]>, ResponseOf<S['methods'][K]>> {
  const definition = service.methods[name]!;
  return {
    headers: {
      ':method': 'POST',
      ':path': `/${service.name}/${name}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    },
    request: definition.request as MessageCodec<RequestOf<S['methods'][K]>>,
    response: definition.response as MessageCodec<ResponseOf<S['methods'][K]>>,
  };
}

/**
 * Encodes one message with its length prefix into the shared slab. The view stays valid while an
 * asynchronous socket write holds it (the slab never reuses handed-out bytes).
 */
export interface StreamHandler {
  onMessage(payload: Buffer): void;
  /** The call ended: undefined for status OK. Called once. */
  onEnd(error: Error | undefined): void;
}

/** The sending half of a streaming call. */
export interface OpenStream {
  write(frame: Buffer): void;
  /** Half-closes: the server sees the end of the client's messages. */
  end(): void;
  /** Cancels the call (RST_STREAM CANCEL). */
  cancel(): void;
}

// Per-call state lives in a Call object found through the stream, so that the stream's listeners
// are shared functions rather than closures allocated for every request.
const CALL = Symbol('grpc call');
type CallStream = ClientHttp2Stream & { [CALL]: Call };

/** One gRPC call on one HTTP/2 stream: deframes its DATA and turns its end into a status. */
class Call {
  headers: IncomingHttpHeaders | undefined;
  trailers: IncomingHttpHeaders | undefined;
  streamError: Error | undefined;
  ended = false;
  /** The start of a message split over DATA chunks. */
  private partial: Buffer | undefined;

  constructor(
    readonly stream: ClientHttp2Stream,
    private readonly handler: StreamHandler,
  ) {}

  data(chunk: Buffer): void {
    if (this.ended) return;
    let buf = this.partial === undefined ? chunk : Buffer.concat([this.partial, chunk]);
    this.partial = undefined;
    while (buf.length >= PREFIX_BYTES) {
      if (buf[0] !== 0) {
        this.end(new GrpcError(GrpcCode.Internal, 'grpc: compressed or malformed response frame'));
        this.stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      const end = PREFIX_BYTES + buf.readUInt32BE(1);
      if (buf.length < end) break;
      this.handler.onMessage(buf.subarray(PREFIX_BYTES, end));
      buf = buf.subarray(end);
    }
    if (buf.length > 0) this.partial = buf;
  }

  /** The stream closed: the status from its trailers (or a trailers-only response's headers). */
  closed(): void {
    const status = this.trailers?.['grpc-status'] ?? this.headers?.['grpc-status'];
    if (status === undefined) return this.end(this.missingStatus());
    const code = Number(status);
    if (code !== GrpcCode.OK) {
      const message = this.trailers?.['grpc-message'] ?? this.headers?.['grpc-message'];
      return this.end(new GrpcError(code as GrpcCode, typeof message === 'string' ? safeDecode(message) : ''));
    }
    this.end(this.partial === undefined ? undefined : new GrpcError(GrpcCode.Internal, 'grpc: truncated response message'));
  }

  private end(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.handler.onEnd(error);
  }

  private missingStatus(): Error {
    const httpStatus = this.headers?.[':status'];
    if (httpStatus !== undefined && Number(httpStatus) !== 200) return new GrpcError(GrpcCode.Unknown, `unexpected HTTP status ${httpStatus}`);
    if (this.streamError !== undefined) return new GrpcError(GrpcCode.Unavailable, this.streamError.message);
    const reset = this.stream.rstCode ?? 0;
    return new GrpcError(GrpcCode.Unavailable, reset !== 0 ? `stream reset (HTTP/2 error ${reset})` : 'stream ended without grpc-status');
  }
}

function onResponse(this: CallStream, headers: IncomingHttpHeaders): void {
  this[CALL].headers = headers;
}
function onTrailers(this: CallStream, trailers: IncomingHttpHeaders): void {
  this[CALL].trailers = trailers;
}
function onData(this: CallStream, chunk: Buffer): void {
  this[CALL].data(chunk);
}
function onError(this: CallStream, error: Error): void {
  this[CALL].streamError = error;
}
function onClose(this: CallStream): void {
  this[CALL].closed();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Collects a unary call's single response message. */
class UnaryResponse implements StreamHandler {
  private payload: Buffer | undefined;
  private extra = false;

  constructor(
    private readonly resolve: (payload: Buffer) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  onMessage(payload: Buffer): void {
    if (this.payload === undefined) this.payload = payload;
    else this.extra = true;
  }

  onEnd(error: Error | undefined): void {
    if (error !== undefined) this.reject(error);
    else if (this.payload === undefined) this.reject(new GrpcError(GrpcCode.Internal, 'grpc: no response message'));
    else if (this.extra) this.reject(new GrpcError(GrpcCode.Internal, 'grpc: more than one response message'));
    else this.resolve(this.payload);
  }
}

/**
 * One HTTP/2 connection to one endpoint. When the connection is lost, the next call reconnects;
 * failed attempts are spaced out (100 ms doubling to 2 s) and calls meanwhile wait for the next
 * attempt, so a dead server yields a bounded error rate rather than a busy loop.
 */
export class GrpcChannel {
  /** The session new calls go to; undefined once it was lost (GOAWAY, closed). */
  private session: ClientHttp2Session | undefined;
  /** Sessions not closed yet, this one and any still finishing their streams after a GOAWAY. */
  private readonly sessions = new Set<ClientHttp2Session>();
  private connecting: Promise<ClientHttp2Session> | undefined;
  private retryMs = FIRST_RETRY_MS;
  private nextAttemptAt = 0;
  private closed = false;

  private constructor(private readonly url: string) {}

  /** Connects, rejecting if the first attempt fails. */
  static async connect(url: string): Promise<GrpcChannel> {
    const channel = new GrpcChannel(url);
    await channel.liveSession();
    return channel;
  }

  /** One request message, one response message: resolves with the response's payload (undecoded). */
  unary(method: GrpcMethod<unknown, unknown>, frame: Buffer): Promise<Buffer> {
    const session = this.session;
    if (session === undefined) return this.liveSession().then(() => this.unary(method, frame));
    return new Promise<Buffer>((resolve, reject) => {
      startCall(session, method.headers, new UnaryResponse(resolve, reject)).end(frame);
    });
  }

  /** Opens a bidirectional call; write frames with `write`, response payloads go to `handler`. */
  async stream(method: GrpcMethod<unknown, unknown>, handler: StreamHandler): Promise<OpenStream> {
    const stream = startCall(await this.liveSession(), method.headers, handler);
    return {
      write: (frame) => {
        if (!stream.destroyed) stream.write(frame);
      },
      end: () => {
        if (!stream.destroyed) stream.end();
      },
      cancel: () => {
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  /** Closes the session once its streams are done; no reconnection after this. */
  async close(): Promise<void> {
    this.closed = true;
    this.session = undefined;
    await Promise.all([...this.sessions].map((session) => new Promise<void>((resolve) => session.close(() => resolve()))));
  }

  /** Tears the session down; calls in flight fail. */
  destroy(): void {
    this.closed = true;
    this.session = undefined;
    for (const session of this.sessions) session.destroy();
  }

  private liveSession(): Promise<ClientHttp2Session> {
    if (this.closed) return Promise.reject(new GrpcError(GrpcCode.Canceled, 'grpc: the client connection is closing'));
    if (this.session !== undefined) return Promise.resolve(this.session);
    return (this.connecting ??= this.attempt().finally(() => (this.connecting = undefined)));
  }

  private async attempt(): Promise<ClientHttp2Session> {
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      const session = await openSession(this.url);
      if (this.closed) {
        session.destroy();
        throw new GrpcError(GrpcCode.Canceled, 'grpc: the client connection is closing');
      }
      this.retryMs = FIRST_RETRY_MS;
      const forget = () => {
        if (this.session === session) this.session = undefined;
      };
      session.on('goaway', forget);
      session.on('close', () => {
        forget();
        this.sessions.delete(session);
      });
      this.session = session;
      this.sessions.add(session);
      return session;
    } catch (e) {
      this.nextAttemptAt = Date.now() + this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      throw e instanceof GrpcError ? e : new GrpcError(GrpcCode.Unavailable, `connection error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function startCall(session: ClientHttp2Session, headers: OutgoingHttpHeaders, handler: StreamHandler): ClientHttp2Stream {
  const stream = session.request(headers, { endStream: false }) as CallStream;
  stream[CALL] = new Call(stream, handler);
  stream.on('response', onResponse);
  stream.on('trailers', onTrailers);
  stream.on('data', onData);
  stream.on('error', onError);
  stream.on('close', onClose);
  return stream;
}

function openSession(url: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, {
      settings: { enablePush: false, initialWindowSize: 1 << 20 },
      // Until the server's SETTINGS arrive; etcd and tsetcd then announce their own (large) limit.
      peerMaxConcurrentStreams: 1 << 16,
      // Hundreds of streams in flight on one session exceed the default 10 MB budget.
      maxSessionMemory: 256,
    });
    const onError = (e: Error) => {
      session.destroy();
      reject(e);
    };
    session.once('error', onError);
    session.once('connect', () => {
      session.off('error', onError);
      // Errors also surface on the streams (and close the session): nothing more to do here.
      session.on('error', () => {});
      session.setLocalWindowSize(16 << 20);
      resolve(session);
    });
  });
}
