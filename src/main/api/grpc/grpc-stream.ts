// What a gRPC call needs from its HTTP/2 stream. node:http2's ServerHttp2Stream has it, and so does
// H2Stream (h2-stream.ts), the server's own lean HTTP/2 for connections that carry gRPC.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

export interface RespondOptions {
  /** The headers end the stream (a trailers-only response). */
  readonly endStream?: boolean;
  /** end() waits for sendTrailers(), called from the 'wantTrailers' event. */
  readonly waitForTrailers?: boolean;
  readonly sendDate?: boolean;
}

export interface GrpcStream {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly writableNeedDrain: boolean;
  respond(headers: OutgoingHttpHeaders, options: RespondOptions): void;
  write(chunk: Uint8Array, done?: () => void): boolean;
  end(chunk?: Uint8Array): void;
  sendTrailers(headers: OutgoingHttpHeaders): void;
  /** Resets the stream (RST_STREAM with `code`). */
  close(code?: number): void;
  pause(): void;
  resume(): void;
  cork(): void;
  uncork(): void;
  on(event: 'data', listener: (this: GrpcStream, chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close' | 'wantTrailers' | 'drain', listener: (this: GrpcStream) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'drain', listener: (this: GrpcStream) => void): unknown;
}

export type { IncomingHttpHeaders, OutgoingHttpHeaders };
