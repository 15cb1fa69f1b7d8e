// The HTTP side of the client API, as etcd serves it next to gRPC: /version, /health, /livez,
// /readyz, /metrics, and the v3 JSON gateway under /v3/ (and /v3beta/). Every response carries
// etcd's CORS headers (etcd's default --cors is "*"); anything else is Go's "404 page not found".
import { ETCD_API_VERSION, ETCD_CLUSTER_VERSION } from '../../version.js';
import type { MemberMetrics } from '../../metrics/metrics.js';
import { httpError, respond, type HttpExchange, type HttpHeaders } from './exchange.js';
import type { JsonGateway } from './gateway/gateway.js';
import { HealthEndpoints, type HealthSource } from './health.js';

const CORS: HttpHeaders = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

const VERSION_BODY = JSON.stringify({ etcdserver: ETCD_API_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });

export interface HttpRouterDeps {
  readonly member: HealthSource;
  readonly metrics: MemberMetrics;
  readonly gateway: JsonGateway;
}

export type HttpRoute = (ex: HttpExchange) => void;

export function httpRouter({ member, metrics, gateway }: HttpRouterDeps): HttpRoute {
  const health = new HealthEndpoints(member, metrics.health);
  return (raw) => {
    // etcd serves /v3beta/ as /v3/.
    const path = raw.path.startsWith('/v3beta/') ? '/v3/' + raw.path.slice('/v3beta/'.length) : raw.path;
    const ex = new AdjustedExchange(raw, CORS, path);
    if (ex.method === 'OPTIONS') return respond(ex, 200, {}, '');
    if (path.startsWith('/v3/')) return gateway.handle(ex);
    switch (ex.path) {
      case '/version':
        if (ex.method !== 'GET') return httpError(ex, 405, 'Method Not Allowed', { Allow: 'GET' });
        return respond(ex, 200, { 'Content-Type': 'application/json' }, VERSION_BODY);
      case '/metrics':
        metrics.text().then(
          (text) => respond(ex, 200, { 'Content-Type': metrics.contentType }, text),
          (e: Error) => httpError(ex, 500, `An error has occurred while serving metrics:\n\n${e.message}`),
        );
        return;
    }
    if (!health.handle(ex)) httpError(ex, 404, '404 page not found');
  };
}

/** The same exchange with `headers` added to its response, and under another path if given. */
class AdjustedExchange implements HttpExchange {
  constructor(
    private readonly inner: HttpExchange,
    private readonly headers: HttpHeaders,
    readonly path: string = inner.path,
  ) {}

  get method(): string {
    return this.inner.method;
  }

  get query(): string {
    return this.inner.query;
  }

  readBody(onChunk: (chunk: Buffer) => void, onEnd: () => void): void {
    this.inner.readBody(onChunk, onEnd);
  }

  onAbort(handler: () => void): void {
    this.inner.onAbort(handler);
  }

  writeHead(status: number, headers: HttpHeaders): void {
    this.inner.writeHead(status, { ...this.headers, ...headers });
  }

  write(chunk: string): boolean {
    return this.inner.write(chunk);
  }

  onDrain(handler: () => void): void {
    this.inner.onDrain(handler);
  }

  end(chunk?: string): void {
    this.inner.end(chunk);
  }
}
