// One watcher inside the member, on the member's own WatchHub, for the lock and election services
// (etcd serves them with an in-process client whose watches go to its own watch server). The
// hub's responses arrive here as messages or as bytes encoded by a fan-out worker; both are read
// back as WatchResponse.
import { GrpcCode, GrpcError } from '../errors.js';
import type { HubStream, WatchHub } from '../watch/hub.js';
import { decode, WatchResponseCodec, type Init, type WatchResponse } from '../api/proto/index.js';

/** etcd's clientv3 reports a watch canceled for compaction as this error. */
const COMPACTED = new GrpcError(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision has been compacted');
const CLOSED = new GrpcError(GrpcCode.Canceled, 'watch closed');

export interface LocalWatchOptions {
  key: Buffer;
  /** As in a WatchCreateRequest: undefined for `key` alone. */
  rangeEnd?: Buffer;
  startRevision: number;
}

export class LocalWatch {
  private readonly stream: HubStream;
  /** Responses with events, not read yet. At most one revision batch per applied write: small. */
  private readonly queue: WatchResponse[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(hub: WatchHub, options: LocalWatchOptions) {
    this.stream = hub.openStream({
      write: (m) => {
        this.receive(m);
        return true;
      },
      drained: () => Promise.resolve(),
    });
    this.stream.request({
      requestUnion: 'createRequest',
      createRequest: {
        key: options.key,
        rangeEnd: options.rangeEnd ?? Buffer.alloc(0),
        startRevision: options.startRevision,
        progressNotify: false,
        filters: [],
        prevKv: false,
        watchId: 0,
        fragment: false,
      },
    });
  }

  /** The next response carrying events; rejects when the watch is canceled, fails or `signal` aborts. */
  async next(signal: AbortSignal): Promise<WatchResponse> {
    for (;;) {
      const ready = this.queue.shift();
      if (ready !== undefined) return ready;
      if (this.failure !== undefined) throw this.failure;
      if (signal.aborted) throw signal.reason;
      await this.stream.guard(
        new Promise<void>((resolve) => {
          const onAbort = () => resolve();
          signal.addEventListener('abort', onAbort, { once: true });
          this.wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
        }),
      ).catch((e: Error) => {
        this.failure ??= e;
      });
      this.wake = undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failure ??= CLOSED;
    this.stream.close();
  }

  private receive(m: Uint8Array | Init<WatchResponse>): void {
    if (this.closed) return;
    const response = m instanceof Uint8Array ? decode(WatchResponseCodec, Buffer.from(m.buffer, m.byteOffset, m.byteLength)) : (m as WatchResponse);
    if (response.canceled) {
      this.failure ??= response.compactRevision > 0 ? COMPACTED : new GrpcError(GrpcCode.Canceled, response.cancelReason || 'etcdserver: watch canceled');
    } else if (response.events !== undefined && response.events.length > 0) {
      this.queue.push(response);
    }
    this.wake?.();
  }
}
