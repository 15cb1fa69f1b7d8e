// etcd's v3 JSON gateway: POST /v3/<service>/<method> with a JSON body, answered with JSON. Like
// etcd's grpc-gateway it is a client of the member's own gRPC server over loopback, so every
// method keeps its exact gRPC behaviour (validation, errors, limits, streaming) and the calls show
// in the gRPC metrics as etcd's do. Streaming methods relay: /v3/watch and /v3/lease/keepalive
// read one JSON request after another from the body and answer newline-separated results.
import type protobuf from 'protobufjs';
import { GrpcCode } from '../../../errors.js';
import { GrpcChannel, type OpenStream } from '../../grpc/client.js';
import { httpError, type HttpExchange } from '../exchange.js';
import { Base64Error } from './go-base64.js';
import { GoJsonError, readStreamValue } from './go-json.js';
import { JsonpbError, messageFromJson, type ProtoObject } from './jsonpb.js';
import { ResponseRelay } from './relay.js';
import { loadRoutes, type GatewayRoute } from './routes.js';

export interface GatewayOptions {
  /** The member's own gRPC endpoint on loopback, e.g. `http://127.0.0.1:2379`. */
  readonly grpcUrl: string;
  /**
   * Largest request body read, in bytes (for a stream: the largest one request). A larger body is
   * refused with 413 without being read further.
   */
  readonly maxBodyBytes: number;
}

const TOO_LARGE = 'http: request body too large';

export class JsonGateway {
  private readonly routes: ReadonlyMap<string, GatewayRoute> = loadRoutes();
  private channel: Promise<GrpcChannel> | undefined;
  private closed = false;

  constructor(private readonly options: GatewayOptions) {}

  /** Serves a request under /v3/ (the /v3beta/ alias already rewritten). */
  handle(ex: HttpExchange): void {
    const route = this.routes.get(ex.path);
    if (route === undefined) return httpError(ex, 404, 'Not Found');
    if (ex.method !== 'POST') return httpError(ex, 405, 'Method Not Allowed');
    const relay = new ResponseRelay(ex, route.response, route.kind !== 'unary');
    if (route.kind === 'bidi') new StreamedRequests(this, ex, route, relay).start();
    else this.singleRequest(ex, route, relay);
  }

  async close(): Promise<void> {
    this.closed = true;
    const channel = this.channel;
    this.channel = undefined;
    if (channel !== undefined) await channel.then((c) => c.close(), () => undefined);
  }

  /** Opens the gRPC call behind a request (the loopback connection is made on first use). */
  async open(route: GatewayRoute, relay: ResponseRelay): Promise<OpenStream | undefined> {
    try {
      if (this.closed) throw new Error('the gateway is closed');
      this.channel ??= GrpcChannel.connect(this.options.grpcUrl);
      const stream = await (await this.channel).stream(route.method, relay);
      relay.attach(stream);
      return stream;
    } catch (e) {
      this.channel = undefined;
      relay.fail(GrpcCode.Unavailable, e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  /** Unary and server-streaming methods: the whole body is one request. */
  private singleRequest(ex: HttpExchange, route: GatewayRoute, relay: ResponseRelay): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    ex.readBody(
      (chunk) => {
        if (refused) return;
        size += chunk.length;
        if (size > this.options.maxBodyBytes) {
          refused = true;
          relay.fail(GrpcCode.ResourceExhausted, TOO_LARGE, 413);
          return;
        }
        chunks.push(chunk);
      },
      () => {
        if (refused) return;
        const body = Buffer.concat(chunks, size);
        let request: ProtoObject;
        try {
          const read = readStreamValue(body, 0, true);
          request = read.kind === 'value' ? messageFromJson(route.request, read.value) : {};
        } catch (e) {
          return relay.fail(GrpcCode.InvalidArgument, badRequestMessage(e));
        }
        void this.open(route, relay).then((stream) => {
          stream?.write(frame(route.request, request));
          stream?.end();
        });
      },
    );
  }
}

/**
 * A bidirectional method's body: one JSON request after another, each sent as it completes. The
 * first request decides the response (bad JSON there: an error, status 500 as in etcd); a bad
 * request later ends the client's side of the call, as etcd's gateway does.
 */
class StreamedRequests {
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  private stream: OpenStream | undefined;
  private opening = false;
  /** Requests decoded before the call was open. */
  private readonly queued: ProtoObject[] = [];
  private finished = false;

  constructor(
    private readonly gateway: JsonGateway,
    private readonly ex: HttpExchange,
    private readonly route: GatewayRoute,
    private readonly relay: ResponseRelay,
  ) {}

  start(): void {
    this.ex.readBody(
      (chunk) => {
        if (this.finished) return;
        this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
        if (this.pending.length > this.gateway.maxBodyBytes) {
          if (this.stream === undefined && !this.opening) return this.refuse(GrpcCode.ResourceExhausted, TOO_LARGE, 413);
          return this.closeSend();
        }
        this.pump();
      },
      () => {
        this.ended = true;
        this.pump();
      },
    );
  }

  private pump(): void {
    while (!this.finished) {
      let request: ProtoObject;
      try {
        const read = readStreamValue(this.pending, 0, this.ended);
        if (read.kind === 'partial') return;
        if (read.kind === 'eof') return this.closeSend();
        this.pending = this.pending.subarray(read.end);
        request = messageFromJson(this.route.request, read.value);
      } catch (e) {
        const first = this.stream === undefined && !this.opening;
        if (first) return this.refuse(GrpcCode.Unknown, badRequestMessage(e));
        return this.closeSend();
      }
      this.send(request);
    }
  }

  private send(request: ProtoObject): void {
    if (this.stream !== undefined) return this.stream.write(frame(this.route.request, request));
    this.queued.push(request);
    this.openCall();
  }

  /** The client's side is over: no more requests (the responses keep coming). */
  private closeSend(): void {
    this.finished = true;
    if (this.stream !== undefined) this.stream.end();
    else this.openCall();
  }

  private openCall(): void {
    if (this.opening) return;
    this.opening = true;
    void this.gateway.open(this.route, this.relay).then((stream) => {
      if (stream === undefined) return;
      this.stream = stream;
      for (const request of this.queued.splice(0)) stream.write(frame(this.route.request, request));
      if (this.finished) stream.end();
    });
  }

  private refuse(code: GrpcCode, message: string, status?: number): void {
    this.finished = true;
    this.relay.fail(code, message, status);
  }
}

/** What a bad request body is reported as: Go's JSON, base64 and jsonpb messages. */
function badRequestMessage(e: unknown): string {
  if (e instanceof GoJsonError || e instanceof JsonpbError || e instanceof Base64Error) return e.message;
  throw e;
}

/** A request message, protobuf-encoded with gRPC's length prefix. */
function frame(type: protobuf.Type, request: ProtoObject): Buffer {
  const bytes = type.encode(request).finish();
  const out = Buffer.allocUnsafe(5 + bytes.length);
  out[0] = 0;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}
