// One gRPC call on one HTTP/2 stream: reading request messages, running the handler, writing
// responses and the final status. Stream events reach the call through listeners shared by all
// calls (the call hangs off the stream under a symbol), so a call costs no closures.

import type { GrpcStream, IncomingHttpHeaders, OutgoingHttpHeaders } from './grpc-stream.js';
import http2 from 'node:http2';
import { GrpcCode, GrpcError, toGrpcError } from '../../errors.js';
import type { Init, MessageCodec } from '../proto/codec.js';
import { decode } from '../proto/codec.js';
import { ProtoDecodeError } from '../proto/reader.js';
import { decompress, isTooLarge, type Encoding } from './compression.js';
import { encodeFrame, FrameReader, wholeFrame, type FrameSink } from './framing.js';
import type { BidiCall, BidiHandler, CallContext, ResponseStream, ServerStreamHandler, UnaryHandler } from './service.js';
import { errorTrailers, OK_TRAILERS, RESPONSE_HEADERS, trailersOnly, TransportErrors } from './status.js';
import { withResolvers, type Resolvers } from '../../with-resolvers.js';

/** What calls share with their server. */
export interface CallEnvironment {
  readonly maxReceiveMessageBytes: number;
  /** Request messages a bidi call queues for a slow handler before reading pauses. */
  readonly readHighWater: number;
  /** Calls in progress, for shutdown. */
  readonly active: Set<Call>;
  /** Told how each call ended (metrics). */
  readonly observer: CallObserver | undefined;
}

/** Told about calls to registered methods, by method path (for metrics). */
export interface CallObserver {
  started(path: string): void;
  handled(path: string, code: GrpcCode): void;
}

export interface RoutedMethod {
  readonly path: string;
  readonly request: MessageCodec<unknown>;
  readonly response: MessageCodec<unknown>;
}

const CALL = Symbol('tsetcd.grpc.call');

interface CallStream extends GrpcStream {
  [CALL]?: Call;
}

const RESPOND_WITH_TRAILERS = { waitForTrailers: true, sendDate: false } as const;
const RESPOND_AND_END = { endStream: true, sendDate: false } as const;
const RESOLVED = Promise.resolve();

function onStreamData(this: CallStream, chunk: Buffer): void {
  this[CALL]!.onData(chunk);
}
function onStreamEnd(this: CallStream): void {
  this[CALL]!.onReadEnd();
}
function onStreamClose(this: CallStream): void {
  this[CALL]!.onStreamClosed();
}
function onWantTrailers(this: CallStream): void {
  this[CALL]!.onWantTrailers();
}
function onStreamDrain(this: CallStream): void {
  (this[CALL] as StreamingCall<unknown>).onDrain();
}
function onDeadline(call: Call): void {
  call.endEarly(TransportErrors.deadlineExceeded);
}
function uncork(call: StreamingCall<unknown>): void {
  call.uncork();
}
export function ignoreError(): void {}

/** False once the stream was reset or destroyed: writing to it would throw. */
function isOpen(stream: GrpcStream): boolean {
  return !stream.destroyed && !stream.closed;
}

/** Answers a stream with a status alone (one HEADERS frame) and discards what the client sends. */
export function respondWithStatus(stream: GrpcStream, status: GrpcError): void {
  if (!isOpen(stream) || stream.headersSent) return;
  stream.respond(trailersOnly(status), RESPOND_AND_END);
  stream.resume();
}

function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<T>).then === 'function';
}

export abstract class Call implements CallContext, FrameSink {
  readonly deadline: number | undefined;
  /** Created when a message does not arrive as exactly one chunk (unary calls rarely need it). */
  private frames: FrameReader | undefined;
  private readingStopped = false;
  /** Set once the final status is decided; nothing is written after that but the status. */
  protected finished = false;
  protected readEnded = false;
  private endReason: GrpcError | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;

  constructor(
    protected readonly stream: GrpcStream,
    readonly metadata: IncomingHttpHeaders,
    protected readonly method: RoutedMethod,
    protected readonly env: CallEnvironment,
    private readonly encoding: Encoding | null,
    timeoutMs: number | undefined,
  ) {
    (stream as CallStream)[CALL] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamClose);
    stream.on('wantTrailers', onWantTrailers);
    env.active.add(this);
    if (timeoutMs !== undefined) {
      this.deadline = Date.now() + timeoutMs;
      // Beyond setTimeout's range a deadline is as good as none.
      if (timeoutMs < 2 ** 31) this.timer = setTimeout(onDeadline, timeoutMs, this);
    }
  }

  get path(): string {
    return this.method.path;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.endReason !== undefined) this.controller.abort(this.endReason);
    }
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.endReason !== undefined;
  }

  // ---- from the stream

  onData(chunk: Buffer): void {
    if (this.readingStopped) return;
    if (this.frames === undefined) {
      const payload = wholeFrame(chunk, this.env.maxReceiveMessageBytes);
      if (payload !== undefined) return this.onFrame(payload, chunk[0] === 1);
      this.frames = new FrameReader(this.env.maxReceiveMessageBytes);
    }
    this.frames.push(chunk, this);
  }

  onFrame(payload: Buffer, compressed: boolean): void {
    if (compressed) {
      if (this.encoding === null) return this.endEarly(TransportErrors.compressedWithoutEncoding);
      try {
        payload = decompress(this.encoding, payload, this.env.maxReceiveMessageBytes);
      } catch (e) {
        return this.endEarly(
          isTooLarge(e)
            ? TransportErrors.tooLargeAfterDecompression(this.env.maxReceiveMessageBytes)
            : TransportErrors.decompress((e as Error).message),
        );
      }
    }
    let message: unknown;
    try {
      message = decode(this.method.request, payload);
    } catch (e) {
      // Only ProtoDecodeError is expected; anything else must not escape into the stream's events.
      return this.endEarly(TransportErrors.unmarshal(e instanceof ProtoDecodeError ? e.message : String(e)));
    }
    this.onMessage(message);
  }

  onOversized(length: number): void {
    this.endEarly(TransportErrors.tooLarge(length, this.env.maxReceiveMessageBytes));
    // Tell the client to stop sending the rest of the message (RST_STREAM NO_ERROR after the status).
    if (!this.readEnded) this.stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  onBadFrame(): void {
    this.endEarly(TransportErrors.unexpectedPayloadFormat);
  }

  onReadEnd(): void {
    this.readEnded = true;
    this.onRequestsEnd();
  }

  onWantTrailers(): void {
    this.stream.sendTrailers(this.trailers);
  }

  onStreamClosed(): void {
    this.env.active.delete(this);
    this.clearTimer();
    if (!this.finished) this.endEarly(TransportErrors.cancelled);
  }

  /**
   * The call ends before its handler finished: client cancel, deadline, shutdown, or a request the
   * transport cannot deliver (oversized, undecodable). The handler sees its signal abort.
   */
  endEarly(reason: GrpcError): void {
    if (this.endReason !== undefined || this.finished) return;
    this.endReason = reason;
    this.controller?.abort(reason);
    this.onEndedEarly(reason);
    this.finish(reason);
  }

  // ---- for subclasses

  protected abstract onMessage(message: unknown): void;
  /** The client half-closed its side. */
  protected abstract onRequestsEnd(): void;
  protected onEndedEarly(_reason: GrpcError): void {}

  protected get earlyEndReason(): GrpcError | undefined {
    return this.endReason;
  }

  protected fail(e: unknown): void {
    this.finish(toGrpcError(e));
  }

  /** Ends the call with a status: trailers after messages, or a trailers-only response. */
  protected finish(error: GrpcError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.env.observer?.handled(this.method.path, error?.code ?? GrpcCode.OK);
    this.stopReading();
    this.clearTimer();
    const stream = this.stream;
    if (!isOpen(stream)) return;
    if (!stream.headersSent) {
      stream.respond(trailersOnly(error), RESPOND_AND_END);
      return;
    }
    if (error !== undefined) this.trailers = errorTrailers(error);
    stream.end();
  }

  /** Ends the call with one message and an OK status (the unary success path). */
  protected finishWithMessage(frame: Buffer): void {
    this.finished = true;
    this.env.observer?.handled(this.method.path, GrpcCode.OK);
    this.stopReading();
    this.clearTimer();
    if (!isOpen(this.stream)) return;
    this.sendHeaders();
    this.stream.end(frame);
  }

  /** Ignores whatever the client still sends. */
  protected stopReading(): void {
    this.readingStopped = true;
    this.frames?.stop();
  }

  /** Sends the headers that open a response with messages; the status follows as trailers. */
  protected sendHeaders(): void {
    this.stream.respond(RESPONSE_HEADERS, RESPOND_WITH_TRAILERS);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/** One request, one response. */
export class UnaryCall extends Call {
  private received = false;

  constructor(
    stream: GrpcStream,
    metadata: IncomingHttpHeaders,
    method: RoutedMethod,
    env: CallEnvironment,
    encoding: Encoding | null,
    timeoutMs: number | undefined,
    private readonly handler: UnaryHandler<unknown, unknown>,
  ) {
    super(stream, metadata, method, env, encoding, timeoutMs);
  }

  protected onMessage(request: unknown): void {
    if (this.received) return;
    this.received = true;
    let result: Init<unknown> | PromiseLike<Init<unknown>>;
    try {
      result = this.handler(request, this);
    } catch (e) {
      return this.fail(e);
    }
    if (isPromiseLike(result)) {
      result.then(
        (response) => this.respond(response),
        (e: unknown) => this.fail(e),
      );
    } else {
      this.respond(result);
    }
  }

  protected onRequestsEnd(): void {
    if (!this.received) this.fail(TransportErrors.noRequest);
  }

  private respond(response: Init<unknown>): void {
    if (this.finished) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(this.method.response, response);
    } catch (e) {
      return this.fail(e);
    }
    this.finishWithMessage(frame);
  }
}

/** Shared by server-streaming and bidi calls: writing many responses with backpressure. */
abstract class StreamingCall<Res> extends Call implements ResponseStream<Res> {
  private corked = false;
  private drain: Resolvers<void> | undefined;

  write(message: Init<Res>): boolean {
    const stream = this.stream;
    if (this.finished || !isOpen(stream)) return false;
    if (!stream.headersSent) this.sendHeaders();
    const frame = encodeFrame(this.method.response as MessageCodec<Res>, message);
    // Writes made in the same tick leave as one writev.
    if (!this.corked) {
      this.corked = true;
      stream.cork();
      process.nextTick(uncork, this);
    }
    return stream.write(frame);
  }

  /**
   * Queues responses already framed as gRPC messages (uncompressed), one after another: one write for
   * all of them. `done` is called once their bytes are no longer needed (sent, or dropped).
   */
  writeMessages(messages: Uint8Array, done: () => void): boolean {
    const stream = this.stream;
    if (this.finished || !isOpen(stream)) {
      done();
      return false;
    }
    if (!stream.headersSent) this.sendHeaders();
    if (!this.corked) {
      this.corked = true;
      stream.cork();
      process.nextTick(uncork, this);
    }
    return stream.write(messages, done);
  }

  drained(): Promise<void> {
    const reason = this.earlyEndReason;
    if (reason !== undefined) return Promise.reject(reason);
    if (!this.stream.writableNeedDrain) return RESOLVED;
    if (this.drain === undefined) {
      this.drain = withResolvers();
      this.stream.once('drain', onStreamDrain);
    }
    return this.drain.promise;
  }

  uncork(): void {
    this.corked = false;
    this.stream.uncork();
  }

  onDrain(): void {
    const drain = this.drain;
    this.drain = undefined;
    drain?.resolve();
  }

  protected override onEndedEarly(reason: GrpcError): void {
    const drain = this.drain;
    this.drain = undefined;
    drain?.reject(reason);
  }

  /** Runs a streaming handler; its promise settling ends the call. */
  protected run(body: () => void | Promise<void>): void {
    let result: void | Promise<void>;
    try {
      result = body();
    } catch (e) {
      return this.fail(e);
    }
    if (isPromiseLike(result)) {
      result.then(
        () => this.finish(undefined),
        (e: unknown) => this.fail(e),
      );
    } else {
      this.finish(undefined);
    }
  }
}

/** One request, a stream of responses (Snapshot, Observe). */
export class ServerStreamingCall<Req, Res> extends StreamingCall<Res> {
  private received = false;

  constructor(
    stream: GrpcStream,
    metadata: IncomingHttpHeaders,
    method: RoutedMethod,
    env: CallEnvironment,
    encoding: Encoding | null,
    timeoutMs: number | undefined,
    private readonly handler: ServerStreamHandler<Req, Res>,
  ) {
    super(stream, metadata, method, env, encoding, timeoutMs);
  }

  protected onMessage(request: unknown): void {
    if (this.received) return;
    this.received = true;
    this.run(() => this.handler(request as Req, this));
  }

  protected onRequestsEnd(): void {
    if (!this.received) this.fail(TransportErrors.noRequest);
  }
}

/** Streams both ways (Watch, LeaseKeepAlive). */
export class BidiStreamingCall<Req, Res> extends StreamingCall<Res> implements BidiCall<Req, Res>, AsyncIterator<Req> {
  private readonly queue: (Req | undefined)[] = [];
  private head = 0;
  private paused = false;
  private waiting: { resolve: (r: IteratorResult<Req>) => void; reject: (e: GrpcError) => void } | undefined;

  constructor(
    stream: GrpcStream,
    metadata: IncomingHttpHeaders,
    method: RoutedMethod,
    env: CallEnvironment,
    encoding: Encoding | null,
    timeoutMs: number | undefined,
    handler: BidiHandler<Req, Res>,
  ) {
    super(stream, metadata, method, env, encoding, timeoutMs);
    this.run(() => handler(this));
  }

  [Symbol.asyncIterator](): AsyncIterator<Req> {
    return this;
  }

  next(): Promise<IteratorResult<Req>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      if (this.paused && this.queue.length - this.head <= this.env.readHighWater >>> 1) {
        this.paused = false;
        this.stream.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    const reason = this.earlyEndReason;
    if (reason !== undefined) return Promise.reject(reason);
    if (this.readEnded || this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Leaving a for-await loop early: stop reading, drop what is queued. */
  return(): Promise<IteratorResult<Req>> {
    this.stopReading();
    this.queue.length = 0;
    this.head = 0;
    this.readEnded = true;
    if (this.paused) this.stream.resume();
    return Promise.resolve({ value: undefined, done: true });
  }

  protected onMessage(message: unknown): void {
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.resolve({ value: message as Req, done: false });
      return;
    }
    this.queue.push(message as Req);
    if (!this.paused && this.queue.length - this.head >= this.env.readHighWater) {
      this.paused = true;
      this.stream.pause();
    }
  }

  protected onRequestsEnd(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ value: undefined, done: true });
  }

  protected override onEndedEarly(reason: GrpcError): void {
    super.onEndedEarly(reason);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(reason);
  }

  protected override finish(error: GrpcError | undefined): void {
    super.finish(error);
    // The handler is done: nobody reads any more, so let the client's data flow away.
    if (this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }
}
