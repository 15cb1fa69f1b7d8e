// HttpExchange over node:http, and over node:http2's compatibility API (non-gRPC HTTP/2 requests
// on the client port): what GrpcServer's onHttp hands to the HTTP router.
import type http from 'node:http';
import type http2 from 'node:http2';
import type { HttpHandler } from '../grpc/index.js';
import type { HttpExchange, HttpHeaders } from './exchange.js';

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

class NodeExchange implements HttpExchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  private ended = false;
  /** Headers wait for the body: a response sent whole gets a Content-Length. */
  private head: { status: number; headers: HttpHeaders } | undefined;

  constructor(
    private readonly req: NodeRequest,
    private readonly res: NodeResponse,
  ) {
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
  }

  readBody(onChunk: (chunk: Buffer) => void, onEnd: () => void): void {
    this.req.on('data', onChunk);
    this.req.once('end', onEnd);
  }

  onAbort(handler: () => void): void {
    this.res.once('close', () => {
      if (!this.ended) handler();
    });
  }

  writeHead(status: number, headers: HttpHeaders): void {
    if (this.ended || this.head !== undefined) return;
    this.head = { status, headers };
  }

  write(chunk: string): boolean {
    if (this.ended) return true;
    this.sendHead(undefined);
    return (this.res as http.ServerResponse).write(chunk);
  }

  onDrain(handler: () => void): void {
    this.res.once('drain', handler);
  }

  end(chunk?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.sendHead(chunk ?? '');
    if (chunk === undefined) this.res.end();
    else (this.res as http.ServerResponse).end(chunk);
  }

  /** Sends the status and headers once; with the whole body known, its length too. */
  private sendHead(wholeBody: string | undefined): void {
    const head = this.head;
    if (head === undefined || this.res.headersSent) return;
    const length = wholeBody === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(wholeBody)) };
    this.res.writeHead(head.status, { ...head.headers, ...length });
  }
}

/** GrpcServer's onHttp callback serving `route` for every HTTP request. */
export function nodeHttpHandler(route: (ex: HttpExchange) => void): HttpHandler {
  return (req, res) => route(new NodeExchange(req, res));
}
