// One HTTP/2 stream of an H2Connection, seen from the gRPC call that owns it (GrpcStream). The
// stream keeps its own flow-control state; the connection does the framing and the socket.

import { EventEmitter } from 'node:events';
import type { GrpcStream, OutgoingHttpHeaders, RespondOptions } from './grpc-stream.js';
import { H2ErrorCode } from './h2-frames.js';

/** Queued response bytes beyond which write() asks the caller to wait for 'drain'. */
const WRITE_HIGH_WATER = 64 * 1024;

/** What a stream asks of its connection. */
export interface StreamOwner {
  sendHeaders(stream: H2Stream, headers: OutgoingHttpHeaders, endStream: boolean): void;
  /** Sends what the stream has queued, as far as the flow-control windows allow. */
  flush(stream: H2Stream): void;
  reset(stream: H2Stream, code: number): void;
  /** The client may send this many more bytes on the stream. */
  windowUpdate(stream: H2Stream, increment: number): void;
}

interface Pending {
  data: Uint8Array;
  done: (() => void) | undefined;
}

export class H2Stream extends EventEmitter implements GrpcStream {
  headersSent = false;
  destroyed = false;
  closed = false;
  /** Bytes this side may still send (the client's window for the stream). */
  sendWindow: number;
  /** Response data not sent yet, in order; the first entry may be partly sent (`sentOfFirst`). */
  readonly outgoing: Pending[] = [];
  sentOfFirst = 0;
  queuedBytes = 0;
  /** end() was called: once `outgoing` is sent, the stream ends (with trailers if asked). */
  ending = false;
  /** The client sent END_STREAM. */
  remoteEnded = false;
  /** This side sent END_STREAM. */
  localEnded = false;
  private waitForTrailers = false;
  private trailersWanted = false;
  private paused = false;
  /** Data (and the end) that arrived while paused. */
  private held: Buffer[] = [];
  private heldEnd = false;
  /** Bytes delivered since the last WINDOW_UPDATE for the stream. */
  private consumed = 0;

  constructor(
    readonly id: number,
    private readonly owner: StreamOwner,
    sendWindow: number,
    /** The window the server advertised for each stream: updates go out once half is used. */
    private readonly receiveWindow: number,
  ) {
    super();
    this.sendWindow = sendWindow;
  }

  get writableNeedDrain(): boolean {
    return this.queuedBytes >= WRITE_HIGH_WATER;
  }

  respond(headers: OutgoingHttpHeaders, options: RespondOptions): void {
    if (this.headersSent || this.destroyed) return;
    this.headersSent = true;
    this.waitForTrailers = options.waitForTrailers === true;
    const endStream = options.endStream === true;
    this.owner.sendHeaders(this, headers, endStream);
    if (endStream) this.onLocalEnd();
  }

  write(chunk: Uint8Array, done?: () => void): boolean {
    if (this.ending || this.destroyed) {
      done?.();
      return false;
    }
    this.outgoing.push({ data: chunk, done });
    this.queuedBytes += chunk.byteLength;
    this.owner.flush(this);
    return this.queuedBytes < WRITE_HIGH_WATER;
  }

  end(chunk?: Uint8Array): void {
    if (this.ending || this.destroyed) return;
    if (chunk !== undefined && chunk.byteLength > 0) {
      this.outgoing.push({ data: chunk, done: undefined });
      this.queuedBytes += chunk.byteLength;
    }
    this.ending = true;
    this.owner.flush(this);
  }

  sendTrailers(headers: OutgoingHttpHeaders): void {
    if (this.destroyed || this.localEnded) return;
    this.owner.sendHeaders(this, headers, true);
    this.onLocalEnd();
  }

  close(code: number = H2ErrorCode.NO_ERROR): void {
    if (this.destroyed) return;
    this.owner.reset(this, code);
    this.destroy();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const chunk of held) {
      if (this.destroyed) return;
      this.deliver(chunk);
    }
    if (this.heldEnd && !this.destroyed) this.emit('end');
  }

  /** Writes are sent together at the end of the turn anyway. */
  cork(): void {}
  uncork(): void {}

  // ---- for the connection

  onData(chunk: Buffer): void {
    if (this.paused) this.held.push(chunk);
    else this.deliver(chunk);
  }

  onRemoteEnd(): void {
    this.remoteEnded = true;
    if (this.paused) this.heldEnd = true;
    else this.emit('end');
    if (this.localEnded) this.destroy();
  }

  /** Called by the connection when `outgoing` is empty and the stream is ending. */
  onDataSent(): void {
    if (this.localEnded || this.trailersWanted) return;
    if (this.waitForTrailers) {
      this.trailersWanted = true;
      this.emit('wantTrailers');
    }
    else {
      this.owner.sendHeaders(this, {}, true);
      this.onLocalEnd();
    }
  }

  /** Called by the connection when queued bytes went out. */
  onSent(bytes: number): void {
    const before = this.queuedBytes;
    this.queuedBytes -= bytes;
    if (before >= WRITE_HIGH_WATER && this.queuedBytes < WRITE_HIGH_WATER) this.emit('drain');
  }

  /** Reset by the client, or the connection is gone: nothing more goes either way. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed = true;
    for (const p of this.outgoing) p.done?.();
    this.outgoing.length = 0;
    this.queuedBytes = 0;
    this.held = [];
    process.nextTick(emitClose, this);
  }

  private deliver(chunk: Buffer): void {
    this.consumed += chunk.length;
    if (this.consumed >= this.receiveWindow >>> 1 && !this.remoteEnded) {
      this.owner.windowUpdate(this, this.consumed);
      this.consumed = 0;
    }
    this.emit('data', chunk);
  }

  private onLocalEnd(): void {
    this.localEnded = true;
    // A response that ends before the request did: the client need not send the rest (RFC 9113
    // §8.1); RST_STREAM(NO_ERROR) tells it so, as grpc-go does.
    if (!this.remoteEnded) this.owner.reset(this, H2ErrorCode.NO_ERROR);
    this.destroy();
  }
}

function emitClose(stream: H2Stream): void {
  stream.emit('close');
}
