// One HTTP request and its response, whatever serves it: node:http and node:http2's compatibility
// API on the client port (node-exchange.ts), uWebSockets.js on --listen-client-http-urls
// (ws/uws-exchange.ts). The endpoints and the JSON gateway are written once against this.

export type HttpHeaders = Readonly<Record<string, string>>;

export interface HttpExchange {
  /** Upper case, e.g. `POST`. */
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  /** The query string, without `?`. */
  readonly query: string;
  /**
   * Receives the body as it arrives (each chunk is the receiver's to keep), then `onEnd` once it
   * is complete. Call at most once.
   */
  readBody(onChunk: (chunk: Buffer) => void, onEnd: () => void): void;
  /** Called once if the client goes away before the response ended. */
  onAbort(handler: () => void): void;
  /** Sends the status line and headers (once, before any body). */
  writeHead(status: number, headers: HttpHeaders): void;
  /** Writes part of the body; false when it had to be buffered because the client is behind. */
  write(chunk: string): boolean;
  /** Called (once per registration) when buffered body data has gone out. */
  onDrain(handler: () => void): void;
  /** Ends the response, with a last chunk if given. Nothing is written after this. */
  end(chunk?: string): void;
}

/** Sends a whole response. */
export function respond(ex: HttpExchange, status: number, headers: HttpHeaders, body: string): void {
  ex.writeHead(status, headers);
  ex.end(body);
}

/** Go's http.Error: a plain-text message and a newline. */
export function httpError(ex: HttpExchange, status: number, message: string, extra: HttpHeaders = {}): void {
  respond(ex, status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...extra }, message + '\n');
}
