// A typed client for tsetcd's WebSocket API (on the `ws` package; Node 20 has no WebSocket
// client built in). One connection carries many requests at once; each call's promise settles
// with the reply carrying its request id.
//
//   const c = await WsEtcdClient.connect('ws://127.0.0.1:2381/ws');
//   await c.put({ key: Buffer.from('k'), value: Buffer.from('v') });
//   const { kvs } = await c.range({ key: Buffer.from('k') });
//   const w = await c.watch({ key: Buffer.from('k') }, (res) => console.log(res.events));
//   await w.cancel();
//   await c.close();
//
// Failures reject with a GrpcError (etcd's code and message) when the server answered with one,
// and with an Error when the connection failed or closed.
import WebSocket from 'ws';
import { GrpcCode, GrpcError } from '../../errors.js';
import type { Init } from '../proto/index.js';
import type * as pb from '../proto/index.js';
import { decodeServerFrame, encodeRequest, type WsOp, type WsOps, type WsRequestInit } from './protocol.js';

/** A reply as the client receives it: fields at their default may be absent. */
export type WsReply<O extends WsOp> = Init<WsOps[O]['res']>;

export type WatchListener = (response: Init<pb.WatchResponse>) => void;

export interface WsWatch {
  readonly watchId: number;
  /** Asks the server to cancel the watch; its cancel notice still reaches the listener. */
  cancel(): Promise<void>;
}

interface Pending {
  resolve(res: unknown): void;
  reject(e: Error): void;
  /** For a watch create: who gets the watch's responses once it exists. */
  listener?: WatchListener;
}

export class WsEtcdClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly watchers = new Map<number, WatchListener>();
  private closedWith: Error | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onFrame(data);
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.fail(new Error(`WebSocket closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`));
    });
    socket.on('error', (e: Error) => this.fail(e));
  }

  /** True once the connection failed or closed: every call rejects from then on. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Opens a connection (`ws://host:port/ws`); rejects if it cannot be opened. */
  static connect(url: string): Promise<WsEtcdClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const onError = (e: Error) => reject(e);
      socket.once('error', onError);
      socket.once('open', () => {
        socket.off('error', onError);
        resolve(new WsEtcdClient(socket));
      });
    });
  }

  put(req: WsRequestInit<'put'>): Promise<WsReply<'put'>> {
    return this.call('put', req);
  }

  range(req: WsRequestInit<'range'>): Promise<WsReply<'range'>> {
    return this.call('range', req);
  }

  deleteRange(req: WsRequestInit<'deleteRange'>): Promise<WsReply<'deleteRange'>> {
    return this.call('deleteRange', req);
  }

  txn(req: WsRequestInit<'txn'>): Promise<WsReply<'txn'>> {
    return this.call('txn', req);
  }

  compact(req: WsRequestInit<'compact'>): Promise<WsReply<'compact'>> {
    return this.call('compact', req);
  }

  leaseGrant(req: WsRequestInit<'leaseGrant'>): Promise<WsReply<'leaseGrant'>> {
    return this.call('leaseGrant', req);
  }

  leaseRevoke(req: WsRequestInit<'leaseRevoke'>): Promise<WsReply<'leaseRevoke'>> {
    return this.call('leaseRevoke', req);
  }

  leaseKeepAlive(req: WsRequestInit<'leaseKeepAlive'>): Promise<WsReply<'leaseKeepAlive'>> {
    return this.call('leaseKeepAlive', req);
  }

  leaseTimeToLive(req: WsRequestInit<'leaseTimeToLive'>): Promise<WsReply<'leaseTimeToLive'>> {
    return this.call('leaseTimeToLive', req);
  }

  /** Creates a watch; `listener` gets its responses (events, progress, cancel) from then on. */
  async watch(req: WsRequestInit<'watchCreate'>, listener: WatchListener): Promise<WsWatch> {
    const created = await this.call('watchCreate', req, listener);
    if (created.canceled === true) throw new GrpcError(GrpcCode.InvalidArgument, created.cancelReason ?? 'watch canceled');
    const watchId = created.watchId ?? 0;
    return { watchId, cancel: () => this.call('watchCancel', { watchId }).then(() => undefined) };
  }

  /** Closes the connection once the server has seen the close; calls in flight fail. */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000);
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.terminate();
  }

  private call<O extends WsOp>(op: O, req: WsRequestInit<O>, listener?: WatchListener): Promise<WsReply<O>> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<WsReply<O>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (res: unknown) => void, reject, ...(listener === undefined ? {} : { listener }) });
      this.socket.send(encodeRequest(id, op, req));
    });
  }

  private onFrame(data: Buffer): void {
    const frame = decodeServerFrame(data);
    if (frame.watch !== undefined) {
      this.watchers.get(frame.watch.watchId ?? 0)?.(frame.watch);
      if (frame.watch.canceled === true) this.watchers.delete(frame.watch.watchId ?? 0);
      return;
    }
    const call = this.pending.get(frame.id);
    if (call === undefined) return;
    this.pending.delete(frame.id);
    if (frame.err !== undefined) return call.reject(new GrpcError(frame.err.code as GrpcCode, frame.err.message));
    // Registered before the promise settles: the watch's first events may be in the same read.
    const created = frame.res as Init<pb.WatchResponse>;
    if (call.listener !== undefined && created.canceled !== true) this.watchers.set(created.watchId ?? 0, call.listener);
    call.resolve(frame.res);
  }

  private fail(e: Error): void {
    this.closedWith ??= e;
    for (const call of this.pending.values()) call.reject(this.closedWith);
    this.pending.clear();
  }
}
