// --listen-client-http-urls: HTTP-only client listeners (etcd 3.5's flag). On each, uWebSockets.js
// serves the same HTTP endpoints and JSON gateway as the client port, plus the WebSocket API at
// /ws.
//
// Why a port of its own: uWebSockets.js owns its sockets (its own event loop integration and HTTP
// parser), so it cannot take connections that node:http2 has already accepted; the gRPC port stays
// on node:http2 and keeps serving HTTP as etcd does, and uWebSockets.js gets separate addresses.
//
// Without a loadable uWebSockets.js build these addresses are still served by node:http (the same
// endpoints and gateway; /ws answers 503), after one warning; gRPC is unaffected either way.
import http from 'node:http';
import type { Logger } from '../../log.js';
import type { Member } from '../../server/member.js';
import { httpError } from '../http/exchange.js';
import { listenHost } from '../http/listen-host.js';
import { nodeHttpHandler } from '../http/node-exchange.js';
import type { HttpRoute } from '../http/router.js';
import { listenUwsApi } from './uws-server.js';
import { loadUws } from './uws.js';

export interface HttpOnlyDeps {
  readonly member: Member;
  readonly route: HttpRoute;
  readonly log: Logger;
  /** Largest WebSocket message accepted. */
  readonly maxMessageBytes: number;
}

export interface HttpOnlyListeners {
  close(): Promise<void>;
}

export async function startHttpOnlyListeners(urls: readonly string[], deps: HttpOnlyDeps): Promise<HttpOnlyListeners> {
  if (urls.length === 0) return { close: () => Promise.resolve() };
  const loaded = await loadUws();
  if (loaded.ok) {
    deps.log.info({ package: loaded.from }, 'loaded uWebSockets.js');
    return listenUwsApi(loaded.uws, urls, deps);
  }
  deps.log.warn(
    { tried: loaded.reasons, urls },
    'uWebSockets.js could not be loaded: --listen-client-http-urls are served by node:http without the WebSocket API; gRPC and HTTP on --listen-client-urls are unaffected',
  );
  return listenNodeHttp(urls, deps);
}

async function listenNodeHttp(urls: readonly string[], deps: HttpOnlyDeps): Promise<HttpOnlyListeners> {
  const handler = nodeHttpHandler((ex) => {
    if (ex.path === '/ws') return httpError(ex, 503, 'the WebSocket API needs uWebSockets.js, which could not be loaded');
    deps.route(ex);
  });
  const servers: http.Server[] = [];
  for (const url of urls) {
    const server = http.createServer(handler);
    const { port } = new URL(url);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(port), listenHost(url), () => resolve());
    });
    deps.log.info({ address: url }, 'serving http only client traffic (node:http)');
    servers.push(server);
  }
  return {
    close: async () => {
      await Promise.all(
        servers.map((s) => {
          s.closeAllConnections();
          return new Promise<void>((resolve) => s.close(() => resolve()));
        }),
      );
    },
  };
}
