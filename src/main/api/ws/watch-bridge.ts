// A WebSocket connection's watches: one stream of the member's watch hub (the same as a gRPC Watch
// call), opened with the first watch. Creates are answered in order (as etcd answers them), so
// each "created" response goes back to the oldest create request waiting; every other response
// (events, progress, cancel notices) goes out as a `watch` frame.
import type { GrpcError } from '../../errors.js';
import type { HubStream, WatchHub } from '../../watch/hub.js';
import { decode, type Init } from '../proto/index.js';
import * as pb from '../proto/index.js';

export interface WatchOutput {
  /** The answer to request `id`. */
  reply(id: number, res: Init<pb.WatchResponse>): void;
  /** A response not tied to a request. */
  push(res: Init<pb.WatchResponse>): void;
  /** True while the connection's send buffer is over its mark. */
  backedUp(): boolean;
  /** Resolves when the send buffer is under its mark again; rejects once the connection closed. */
  drained(): Promise<void>;
  /** The hub ended the stream (the member is stopping). */
  failed(error: GrpcError): void;
}

export class WatchBridge {
  private stream: HubStream | undefined;
  private readonly creates: number[] = [];

  constructor(
    private readonly hub: () => WatchHub,
    private readonly out: WatchOutput,
  ) {}

  create(id: number, req: pb.WatchCreateRequest): void {
    const stream = this.open();
    this.creates.push(id);
    stream.request({ requestUnion: 'createRequest', createRequest: req });
  }

  cancel(req: pb.WatchCancelRequest): void {
    this.stream?.request({ requestUnion: 'cancelRequest', cancelRequest: req });
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
  }

  private open(): HubStream {
    if (this.stream !== undefined) return this.stream;
    const stream = this.hub().openStream({
      write: (response) => this.write(response),
      drained: () => this.out.drained(),
    });
    // The hub interrupts a guarded wait when it ends the stream.
    stream.guard(new Promise<never>(() => undefined)).catch((e: GrpcError) => this.out.failed(e));
    this.stream = stream;
    return stream;
  }

  private write(response: Uint8Array | Init<pb.WatchResponse>): boolean {
    const res = response instanceof Uint8Array ? decode(pb.WatchResponseCodec, Buffer.from(response)) : response;
    const id = res.created === true ? this.creates.shift() : undefined;
    if (id !== undefined) this.out.reply(id, res);
    else this.out.push(res);
    return !this.out.backedUp();
  }
}
