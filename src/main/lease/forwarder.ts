// A follower forwards lease keepalives and time-to-live queries to the leader, as etcd does:
// only the leader keeps lease expiry times. One gRPC channel to the leader's client URL, one
// keepalive stream on it; answers come back in request order.
import { LeaseService } from '../api/grpc/etcd-services.js';
import { encodeFrame } from '../api/grpc/framing.js';
import { GrpcChannel, grpcMethod, type OpenStream } from '../api/grpc/client.js';
import { decode } from '../api/proto/index.js';
import type { LeaseTimeToLiveResponse } from '../api/proto/index.js';
import { Errors } from '../errors.js';

const KEEPALIVE = grpcMethod(LeaseService, 'LeaseKeepAlive');
const TIME_TO_LIVE = grpcMethod(LeaseService, 'LeaseTimeToLive');

interface Pending {
  resolve: (ttl: number) => void;
  reject: (e: Error) => void;
}

export class LeaseForwarder {
  private url: string | undefined;
  private channel: Promise<GrpcChannel> | undefined;
  private stream: Promise<OpenStream> | undefined;
  private pending: Pending[] = [];

  /** Keepalive through the leader at `leaderUrl`; resolves with the TTL (0: no such lease). */
  async keepAlive(leaderUrl: string, id: bigint): Promise<number> {
    const stream = await this.keepAliveStream(leaderUrl);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      stream.write(encodeFrame(KEEPALIVE.request, { ID: id }));
    });
  }

  async timeToLive(leaderUrl: string, id: bigint, keys: boolean): Promise<LeaseTimeToLiveResponse> {
    const channel = await this.channelTo(leaderUrl);
    const payload = await channel.unary(TIME_TO_LIVE, encodeFrame(TIME_TO_LIVE.request, { ID: id, keys }));
    return decode(TIME_TO_LIVE.response, payload);
  }

  close(): void {
    this.reset(Errors.stopped);
  }

  private channelTo(url: string): Promise<GrpcChannel> {
    if (url !== this.url) {
      this.reset(Errors.leaderChanged);
      this.url = url;
    }
    this.channel ??= GrpcChannel.connect(url).catch((e: Error) => {
      this.channel = undefined;
      throw e;
    });
    return this.channel;
  }

  private keepAliveStream(url: string): Promise<OpenStream> {
    const channel = this.channelTo(url);
    this.stream ??= channel.then((c) =>
      c.stream(KEEPALIVE, {
        onMessage: (payload) => this.pending.shift()?.resolve(decode(KEEPALIVE.response, payload).TTL),
        onEnd: () => {
          this.stream = undefined;
          this.failPending(Errors.leaderChanged);
        },
      }),
    );
    return this.stream;
  }

  private reset(err: Error): void {
    this.failPending(err);
    const channel = this.channel;
    this.channel = undefined;
    this.stream = undefined;
    this.url = undefined;
    void channel?.then((c) => c.destroy(), () => undefined);
  }

  private failPending(err: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(err);
  }
}
