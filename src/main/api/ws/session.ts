// One WebSocket connection of the WebSocket API: requests in, replies out, many in flight.
//
// Limits, each with a defined behaviour:
// - at most `maxInFlight` requests per connection are started and not answered; a request beyond
//   that is answered at once with etcd's "too many requests" (ResourceExhausted) and not run;
// - while the socket's send buffer (uWS getBufferedAmount) is over `highWaterBytes`, requests that
//   arrive are held (they count as in flight) and start once it drains; watch responses wait
//   likewise (the hub pauses the stream's watchers);
// - a frame that breaks the protocol (text, not msgpack, not a map, no id) closes the connection
//   with a close code and the reason; other connections and the member carry on.
import { Errors, toGrpcError, type GrpcError } from '../../errors.js';
import type { WatchHub } from '../../watch/hub.js';
import type { Init } from '../proto/index.js';
import type * as pb from '../proto/index.js';
import type { WsOperations } from './operations.js';
import { decodeRequest, encodeFrame, WsBadRequest, WsProtocolError, type WsRequest } from './protocol.js';
import { WatchBridge } from './watch-bridge.js';

/** The connection, as the session uses it (a uWebSockets.js WebSocket underneath). */
export interface WsSocket {
  send(frame: Uint8Array): void;
  /** Runs `fn` with the socket corked: its sends leave together. */
  cork(fn: () => void): void;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

export interface WsLimits {
  readonly maxInFlight: number;
  readonly highWaterBytes: number;
}

export interface WsBackend {
  readonly operations: WsOperations;
  readonly watchHub: () => WatchHub;
}

/** WebSocket close codes (RFC 6455). */
const UNSUPPORTED_DATA = 1003;
const INVALID_PAYLOAD = 1007;
const GOING_AWAY = 1001;

export class WsSession {
  private inFlight = 0;
  /** Requests held while the send buffer is over its mark. */
  private readonly held: WsRequest[] = [];
  private outbox: object[] = [];
  private flushQueued = false;
  private closed = false;
  private readonly drainWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly watches: WatchBridge;

  constructor(
    private readonly socket: WsSocket,
    private readonly backend: WsBackend,
    private readonly limits: WsLimits,
  ) {
    this.watches = new WatchBridge(backend.watchHub, {
      reply: (id, res) => this.send({ id, res }),
      push: (watch) => this.send({ watch }),
      backedUp: () => this.backedUp(),
      drained: () => this.drained(),
      failed: (e) => this.end(GOING_AWAY, e.message),
    });
  }

  /** A message arrived; `data` is only valid during this call. */
  onMessage(data: ArrayBuffer, isBinary: boolean): void {
    if (this.closed) return;
    if (!isBinary) return this.end(UNSUPPORTED_DATA, 'text frames are not supported: send msgpack in binary frames');
    let req: WsRequest;
    try {
      // Copied: the request's keys and values outlive the message buffer.
      req = decodeRequest(Buffer.from(new Uint8Array(data)));
    } catch (e) {
      if (e instanceof WsProtocolError) return this.end(INVALID_PAYLOAD, `invalid frame: ${e.message}`);
      if (e instanceof WsBadRequest) return this.fail(e.id, { code: e.code, message: e.message });
      throw e;
    }
    if (this.inFlight >= this.limits.maxInFlight) return this.fail(req.id, Errors.tooManyRequests);
    this.inFlight++;
    if (this.held.length > 0 || this.backedUp()) this.held.push(req);
    else this.start(req);
  }

  /** The send buffer drained. */
  onDrain(): void {
    while (this.held.length > 0 && !this.backedUp()) this.start(this.held.shift()!);
    if (this.backedUp()) return;
    for (const w of this.drainWaiters.splice(0)) w.resolve();
  }

  onClose(): void {
    this.closed = true;
    this.held.length = 0;
    this.outbox = [];
    this.watches.close();
    const closed = new Error('the WebSocket connection closed');
    for (const w of this.drainWaiters.splice(0)) w.reject(closed);
  }

  private start(req: WsRequest): void {
    switch (req.op) {
      case 'watchCreate':
        this.inFlight--;
        return this.watches.create(req.id, req.req);
      case 'watchCancel':
        this.watches.cancel(req.req);
        return this.answer(req.id, {});
    }
    let result: unknown;
    try {
      result = run(this.backend.operations, req);
    } catch (e) {
      return this.answerError(req.id, e);
    }
    if (result instanceof Promise) {
      result.then(
        (res: unknown) => this.answer(req.id, res),
        (e: unknown) => this.answerError(req.id, e),
      );
    } else {
      this.answer(req.id, result);
    }
  }

  private answer(id: number, res: unknown): void {
    this.inFlight--;
    this.send({ id, res });
  }

  private answerError(id: number, e: unknown): void {
    this.inFlight--;
    this.fail(id, toGrpcError(e));
  }

  private fail(id: number, status: GrpcError | { code: number; message: string }): void {
    this.send({ id, err: { code: status.code, message: status.message } });
  }

  /** Queues a frame; frames queued in one turn of the event loop leave in one corked write. */
  private send(frame: { id: number; res: unknown } | { id: number; err: { code: number; message: string } } | { watch: Init<pb.WatchResponse> }): void {
    if (this.closed) return;
    this.outbox.push(frame);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.closed) return;
    const frames = this.outbox;
    this.outbox = [];
    this.socket.cork(() => {
      for (const frame of frames) this.socket.send(encodeFrame(frame));
    });
  }

  private backedUp(): boolean {
    return this.socket.bufferedAmount() > this.limits.highWaterBytes;
  }

  private drained(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the WebSocket connection closed'));
    if (!this.backedUp()) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  private end(code: number, reason: string): void {
    if (this.closed) return;
    // A close frame's reason is at most 123 bytes.
    this.socket.end(code, Buffer.from(reason).subarray(0, 123).toString());
    this.onClose();
  }
}

/** Runs one KV or lease operation (the switch keeps each request paired with its operation). */
function run(ops: WsOperations, req: Exclude<WsRequest, { op: 'watchCreate' | 'watchCancel' }>): unknown {
  switch (req.op) {
    case 'put':
      return ops.put(req.req);
    case 'range':
      return ops.range(req.req);
    case 'deleteRange':
      return ops.deleteRange(req.req);
    case 'txn':
      return ops.txn(req.req);
    case 'compact':
      return ops.compact(req.req);
    case 'leaseGrant':
      return ops.leaseGrant(req.req);
    case 'leaseRevoke':
      return ops.leaseRevoke(req.req);
    case 'leaseKeepAlive':
      return ops.leaseKeepAlive(req.req);
    case 'leaseTimeToLive':
      return ops.leaseTimeToLive(req.req);
  }
}
