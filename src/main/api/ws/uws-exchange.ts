// HttpExchange over uWebSockets.js. uWS's request object lives only during the handler call and
// its response must not be touched once aborted, so everything is read up front and every write
// checks; writes made later (after an await) are corked, as uWS asks.
import { STATUS_CODES } from 'node:http';
import type { HttpExchange, HttpHeaders } from '../http/exchange.js';
import type { HttpRoute } from '../http/router.js';
import type { UwsHttpRequest, UwsHttpResponse } from './uws.js';

class UwsExchange implements HttpExchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  private aborted = false;
  private ended = false;
  private closeConnection = false;
  /** Body chunks that arrived before readBody, and whether the body is complete. */
  private early: Buffer[] = [];
  private bodyDone = false;
  private bodyReader: { onChunk: (chunk: Buffer) => void; onEnd: () => void } | undefined;
  private readonly abortHandlers: (() => void)[] = [];
  private drainHandlers: (() => void)[] = [];
  private watchingWritable = false;

  constructor(
    private readonly res: UwsHttpResponse,
    req: UwsHttpRequest,
  ) {
    this.method = req.getMethod().toUpperCase();
    this.path = req.getUrl();
    this.query = req.getQuery() ?? '';
    res.onAborted(() => {
      this.aborted = true;
      if (this.ended) return;
      for (const h of this.abortHandlers) h();
    });
    res.onData((chunk, isLast) => {
      // uWS reuses the chunk's memory after this call.
      if (chunk.byteLength > 0) this.chunk(Buffer.from(new Uint8Array(chunk)));
      if (isLast) this.bodyEnd();
    });
  }

  private chunk(chunk: Buffer): void {
    if (this.bodyReader === undefined) this.early.push(chunk);
    else this.bodyReader.onChunk(chunk);
  }

  private bodyEnd(): void {
    this.bodyDone = true;
    this.bodyReader?.onEnd();
  }

  readBody(onChunk: (chunk: Buffer) => void, onEnd: () => void): void {
    this.bodyReader = { onChunk, onEnd };
    for (const chunk of this.early.splice(0)) onChunk(chunk);
    if (this.bodyDone) onEnd();
  }

  onAbort(handler: () => void): void {
    this.abortHandlers.push(handler);
  }

  writeHead(status: number, headers: HttpHeaders): void {
    if (this.aborted || this.ended) return;
    this.res.cork(() => {
      this.res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`);
      for (const [name, value] of Object.entries(headers)) {
        // uWS writes Content-Length and Transfer-Encoding itself, and closes on request.
        if (name.toLowerCase() === 'connection' && value === 'close') this.closeConnection = true;
        else this.res.writeHeader(name, value);
      }
    });
  }

  write(chunk: string): boolean {
    if (this.aborted || this.ended) return true;
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    return ok;
  }

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
    if (this.watchingWritable || this.aborted) return;
    this.watchingWritable = true;
    this.res.onWritable(() => {
      this.watchingWritable = false;
      const handlers = this.drainHandlers;
      this.drainHandlers = [];
      for (const h of handlers) h();
      return true;
    });
  }

  end(chunk?: string): void {
    if (this.aborted || this.ended) return;
    this.ended = true;
    this.res.cork(() => {
      this.res.end(chunk, this.closeConnection);
    });
  }
}

/** uWS's handler for every HTTP request, serving `route`. */
export function uwsHttpHandler(route: HttpRoute): (res: UwsHttpResponse, req: UwsHttpRequest) => void {
  return (res, req) => route(new UwsExchange(res, req));
}
