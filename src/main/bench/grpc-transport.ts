// EtcdConnection over gRPC: the etcd v3 services through GrpcChannel and the project's codecs.

import { decode } from '../api/proto/codec.js';
import { KVService, LeaseService, WatchService } from '../api/grpc/etcd-services.js';
import { GrpcCode, GrpcError } from '../errors.js';
import type { Endpoint } from './flags.js';
import { encodeFrame } from '../api/grpc/framing.js';
import { grpcMethod, GrpcChannel } from '../api/grpc/client.js';
import type { ClientTransport, EtcdConnection, KeepAliveStream, WatchListener, WatchStream } from './transport.js';

const PUT = grpcMethod(KVService, 'Put');
const RANGE = grpcMethod(KVService, 'Range');
const TXN = grpcMethod(KVService, 'Txn');
const LEASE_GRANT = grpcMethod(LeaseService, 'LeaseGrant');
const LEASE_REVOKE = grpcMethod(LeaseService, 'LeaseRevoke');
const LEASE_KEEPALIVE = grpcMethod(LeaseService, 'LeaseKeepAlive');
const WATCH = grpcMethod(WatchService, 'Watch');

export const grpcTransport: ClientTransport = {
  protocol: 'grpc',
  async connect(endpoint: Endpoint): Promise<EtcdConnection> {
    return new GrpcEtcdConnection(await GrpcChannel.connect(endpoint.url));
  },
};

class GrpcEtcdConnection implements EtcdConnection {
  constructor(private readonly channel: GrpcChannel) {}

  // The load calls' responses are not decoded: their status says all the bench needs.
  put(key: Uint8Array, value: Uint8Array): Promise<unknown> {
    return this.channel.unary(PUT, encodeFrame(PUT.request, { key, value }));
  }

  range(key: Uint8Array, serializable: boolean): Promise<unknown> {
    return this.channel.unary(RANGE, encodeFrame(RANGE.request, { key, serializable }));
  }

  txnPuts(keys: readonly Uint8Array[], value: Uint8Array): Promise<unknown> {
    const success = keys.map((key) => ({ requestPut: { key, value } }));
    return this.channel.unary(TXN, encodeFrame(TXN.request, { success }));
  }

  async leaseGrant(ttlSeconds: number): Promise<bigint> {
    const res = decode(LEASE_GRANT.response, await this.channel.unary(LEASE_GRANT, encodeFrame(LEASE_GRANT.request, { TTL: ttlSeconds })));
    if (res.error !== '') throw new GrpcError(GrpcCode.Unknown, res.error);
    return res.ID;
  }

  leaseRevoke(id: bigint): Promise<unknown> {
    return this.channel.unary(LEASE_REVOKE, encodeFrame(LEASE_REVOKE.request, { ID: id }));
  }

  async openKeepAliveStream(): Promise<KeepAliveStream> {
    // Responses come back in request order: a FIFO of waiting round trips.
    const waiting: { resolve: (ttl: number) => void; reject: (e: Error) => void }[] = [];
    let endedWith: Error | undefined;
    const call = await this.channel.stream(LEASE_KEEPALIVE, {
      onMessage: (payload) => waiting.shift()?.resolve(decode(LEASE_KEEPALIVE.response, payload).TTL),
      onEnd: (error) => {
        endedWith = error ?? new GrpcError(GrpcCode.Canceled, 'lease keepalive stream ended');
        for (const w of waiting.splice(0)) w.reject(endedWith);
      },
    });
    return {
      keepAlive: (id) =>
        new Promise<number>((resolve, reject) => {
          if (endedWith !== undefined) return reject(endedWith);
          waiting.push({ resolve, reject });
          call.write(encodeFrame(LEASE_KEEPALIVE.request, { ID: id }));
        }),
      close: () => call.cancel(),
    };
  }

  async openWatchStream(listener: WatchListener): Promise<WatchStream> {
    // etcd answers creates in order, each with its new watch ID.
    const creating: { resolve: (id: number) => void; reject: (e: Error) => void }[] = [];
    let closing = false;
    let endedWith: Error | undefined;
    const call = await this.channel.stream(WATCH, {
      onMessage: (payload) => {
        const res = decode(WATCH.response, payload);
        if (res.created) {
          const pending = creating.shift();
          if (res.canceled) pending?.reject(new Error(`watch not created: ${res.cancelReason}`));
          else pending?.resolve(res.watchId);
        } else if (res.canceled) {
          listener.onError(new Error(`watch canceled: ${res.cancelReason || `compacted at revision ${res.compactRevision}`}`));
        } else if (res.events.length > 0) {
          listener.onEvents(res.watchId, res.events);
        }
      },
      onEnd: (error) => {
        endedWith = error ?? new GrpcError(GrpcCode.Canceled, 'watch stream ended');
        for (const c of creating.splice(0)) c.reject(endedWith);
        if (!closing) listener.onError(endedWith);
      },
    });
    return {
      watch: (key, rangeEnd) =>
        new Promise<number>((resolve, reject) => {
          if (endedWith !== undefined) return reject(endedWith);
          creating.push({ resolve, reject });
          call.write(encodeFrame(WATCH.request, { createRequest: { key, rangeEnd } }));
        }),
      close: () => {
        closing = true;
        call.cancel();
      },
    };
  }

  close(): Promise<void> {
    return this.channel.close();
  }

  destroy(): void {
    this.channel.destroy();
  }
}
