// EtcdConnection over tsetcd's WebSocket API (--listen-client-http-urls), with the typed client in
// api/ws/client.ts. Endpoints are given as for gRPC (host:port or http://host:port) and reached at
// ws://host:port/ws.

import { WsEtcdClient, type WsWatch } from '../api/ws/client.js';
import { GrpcCode, GrpcError } from '../errors.js';
import type { Endpoint } from './flags.js';
import type { ClientTransport, EtcdConnection, KeepAliveStream, WatchedEvent, WatchListener, WatchStream } from './transport.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

export const wsTransport: ClientTransport = {
  protocol: 'ws',
  async connect(endpoint: Endpoint): Promise<EtcdConnection> {
    const url = endpoint.url.replace(/^http:/, 'ws:') + '/ws';
    return new WsEtcdConnection(url, await WsEtcdClient.connect(url));
  },
};

/**
 * One WebSocket connection. When it is lost, the next call reconnects; failed attempts are spaced
 * out (100 ms doubling to 2 s) and calls meanwhile wait for the next attempt.
 */
class WsEtcdConnection implements EtcdConnection {
  private connecting: Promise<WsEtcdClient> | undefined;
  private retryMs = FIRST_RETRY_MS;
  private nextAttemptAt = 0;
  private shut = false;

  constructor(
    private readonly url: string,
    private client: WsEtcdClient,
  ) {}

  put(key: Uint8Array, value: Uint8Array): Promise<unknown> {
    const c = this.live();
    return c !== undefined ? c.put({ key, value }) : this.reconnect().then((r) => r.put({ key, value }));
  }

  range(key: Uint8Array, serializable: boolean): Promise<unknown> {
    const c = this.live();
    return c !== undefined ? c.range({ key, serializable }) : this.reconnect().then((r) => r.range({ key, serializable }));
  }

  txnPuts(keys: readonly Uint8Array[], value: Uint8Array): Promise<unknown> {
    // Encoded at once by the client, so the caller's scratch buffers may be reused after this.
    const req = { success: keys.map((key) => ({ requestPut: { key, value } })) };
    const c = this.live();
    return c !== undefined ? c.txn(req) : this.reconnect().then((r) => r.txn(req));
  }

  async leaseGrant(ttlSeconds: number): Promise<bigint> {
    const res = await (await this.ready()).leaseGrant({ TTL: ttlSeconds });
    if (res.error !== undefined && res.error !== '') throw new GrpcError(GrpcCode.Unknown, res.error);
    return res.ID ?? 0n;
  }

  async leaseRevoke(id: bigint): Promise<unknown> {
    return (await this.ready()).leaseRevoke({ ID: id });
  }

  async openKeepAliveStream(): Promise<KeepAliveStream> {
    return {
      keepAlive: async (id) => (await (await this.ready()).leaseKeepAlive({ ID: id })).TTL ?? 0,
      close: () => undefined,
    };
  }

  async openWatchStream(listener: WatchListener): Promise<WatchStream> {
    const client = await this.ready();
    const watches: WsWatch[] = [];
    let closing = false;
    return {
      watch: async (key, rangeEnd) => {
        const w = await client.watch({ key, rangeEnd }, (res) => {
          if (res.canceled === true) {
            if (!closing) listener.onError(new Error(`watch canceled: ${res.cancelReason || `compacted at revision ${res.compactRevision ?? 0}`}`));
          } else if (res.events !== undefined && res.events.length > 0) {
            listener.onEvents(res.watchId ?? 0, res.events as readonly WatchedEvent[]);
          }
        });
        watches.push(w);
        return w.watchId;
      },
      close: () => {
        closing = true;
        for (const w of watches.splice(0)) w.cancel().catch(() => undefined);
      },
    };
  }

  close(): Promise<void> {
    this.shut = true;
    return this.client.close();
  }

  destroy(): void {
    this.shut = true;
    this.client.destroy();
  }

  private live(): WsEtcdClient | undefined {
    return this.client.closed ? undefined : this.client;
  }

  private ready(): Promise<WsEtcdClient> {
    const c = this.live();
    return c !== undefined ? Promise.resolve(c) : this.reconnect();
  }

  private reconnect(): Promise<WsEtcdClient> {
    if (this.shut) return Promise.reject(new GrpcError(GrpcCode.Canceled, 'the client connection is closing'));
    return (this.connecting ??= this.attempt().finally(() => (this.connecting = undefined)));
  }

  private async attempt(): Promise<WsEtcdClient> {
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      this.client = await WsEtcdClient.connect(this.url);
      this.retryMs = FIRST_RETRY_MS;
      return this.client;
    } catch (e) {
      this.nextAttemptAt = Date.now() + this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      throw new GrpcError(GrpcCode.Unavailable, `connection error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
