// The response side of one gateway call: gRPC response messages become JSON on the HTTP response,
// as etcd's gateway writes them. A unary call answers with the message (or the error body and the
// status for its code); a streaming call answers `{"result":...}` lines as messages arrive and
// ends with an `{"error":...}` chunk if the call failed.
import type protobuf from 'protobufjs';
import { GrpcCode, GrpcError } from '../../../errors.js';
import type { OpenStream, StreamHandler } from '../../grpc/client.js';
import type { HttpExchange, HttpHeaders } from '../exchange.js';
import { errorBody, httpStatusFromCode, streamErrorChunk } from './errors.js';
import { messageToJson, type DecodedMessage } from './jsonpb.js';

const JSON_HEADERS: HttpHeaders = { 'Content-Type': 'application/json' };
/** A call that reached the server: the gateway passes its gRPC response metadata on. */
const RESPONSE_HEADERS: HttpHeaders = { 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc' };

/** Response bytes a streaming call may have buffered for a client that does not read. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export class ResponseRelay implements StreamHandler {
  private stream: OpenStream | undefined;
  private unaryResult: string | undefined;
  private headersSent = false;
  private done = false;
  /** Bytes written since the response last reported it was behind. */
  private buffered = 0;
  private congested = false;

  constructor(
    private readonly ex: HttpExchange,
    private readonly responseType: protobuf.Type,
    private readonly streaming: boolean,
  ) {
    ex.onAbort(() => this.abort());
  }

  /** The gRPC call is open; an abort from now on cancels it. */
  attach(stream: OpenStream): void {
    if (this.done) stream.cancel();
    else this.stream = stream;
  }

  onMessage(payload: Buffer): void {
    if (this.done) return;
    let json: string;
    try {
      json = messageToJson(this.responseType, this.responseType.decode(payload) as unknown as DecodedMessage);
    } catch (e) {
      this.onEnd(new GrpcError(GrpcCode.Internal, `grpc: failed to unmarshal the received message: ${e instanceof Error ? e.message : String(e)}`));
      this.stream?.cancel();
      return;
    }
    if (!this.streaming) {
      this.unaryResult ??= json;
      return;
    }
    this.sendHeaders(200, RESPONSE_HEADERS);
    this.writeChunk(`{"result":${json}}\n`);
  }

  onEnd(error: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    const status = error === undefined ? undefined : toStatus(error);
    if (this.streaming) {
      if (status === undefined) {
        this.sendHeaders(200, RESPONSE_HEADERS);
        this.ex.end();
        return;
      }
      this.sendHeaders(httpStatusFromCode(status.code), JSON_HEADERS);
      this.ex.end(streamErrorChunk(status.code, status.message));
      return;
    }
    if (status !== undefined) return this.fail(status.code, status.message);
    if (this.unaryResult === undefined) return this.fail(GrpcCode.Internal, 'grpc: no response message');
    this.sendHeaders(200, RESPONSE_HEADERS);
    this.ex.end(this.unaryResult);
  }

  /** Ends the response with an error before (or instead of) a gRPC call. */
  fail(code: GrpcCode, message: string, status = httpStatusFromCode(code)): void {
    this.done = true;
    this.stream?.cancel();
    this.sendHeaders(status, JSON_HEADERS);
    this.ex.end(errorBody(code, message));
  }

  private sendHeaders(status: number, headers: HttpHeaders): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.ex.writeHead(status, headers);
  }

  private writeChunk(chunk: string): void {
    if (this.congested) {
      this.buffered += chunk.length;
      if (this.buffered > MAX_BUFFERED_BYTES) {
        // The client stopped reading: give up the call rather than buffer without bound.
        this.done = true;
        this.stream?.cancel();
        this.ex.end();
        return;
      }
    }
    if (!this.ex.write(chunk) && !this.congested) {
      this.congested = true;
      this.buffered = 0;
      this.ex.onDrain(() => {
        this.congested = false;
      });
    }
  }

  private abort(): void {
    if (this.done) return;
    this.done = true;
    this.stream?.cancel();
  }
}

function toStatus(e: Error): { code: GrpcCode; message: string } {
  return e instanceof GrpcError ? { code: e.code, message: e.message } : { code: GrpcCode.Unknown, message: e.message };
}
