// A lean gRPC server (cleartext h2c), sharing its port with HTTP/1.x like etcd does. Connections
// whose first request is gRPC are served by the server's own HTTP/2 (h2-connection.ts); other
// HTTP/2 connections by node:http2.
//
//   const server = new GrpcServer({ maxReceiveMessageBytes: 2 << 20, onHttp: (req, res) => { ... } });
//   server.addService(KVService, {
//     Put: async (req, call) => ({ header }),          // unary: return (or resolve) the response
//   });
//   server.addService(WatchService, {
//     Watch: async (call) => {                         // bidi: iterate requests, write responses
//       for await (const req of call) {
//         if (!call.write({ header, watchId: 1, created: true })) await call.drained();
//       }
//     },
//   });
//   await server.listen('127.0.0.1', 2379);
//   ...
//   await server.close();

import http from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import http2 from 'node:http2';
import net from 'node:net';
import { GrpcCode, type GrpcError } from '../../errors.js';
import { AuthorityRewriter } from './authority-rewriter.js';
import { sniffAuthority, type H2Route } from './authority-sniffer.js';
import { BidiStreamingCall, ignoreError, respondWithStatus, ServerStreamingCall, UnaryCall, type Call, type CallEnvironment, type CallObserver, type RoutedMethod } from './call.js';
import { requestEncoding } from './compression.js';
import { sniffProtocol } from './protocol-sniffer.js';
import type { BidiHandler, MethodKind, ServerStreamHandler, ServiceDefinition, ServiceHandlers, UnaryHandler } from './service.js';
import { isGrpcContentType, TransportErrors } from './status.js';
import type { GrpcStream } from './grpc-stream.js';
import { H2Connection, type H2ConnectionOptions } from './h2-connection.js';
import { MAX_HEADER_LIST_BYTES } from './h2-frames.js';
import type { H2Stream } from './h2-stream.js';
import { parseGrpcTimeout } from './timeout.js';

/** Serves HTTP/1.x requests, and HTTP/2 requests that are not gRPC, on the gRPC port. */
export type HttpHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface GrpcServerOptions {
  /**
   * Largest request message accepted, in bytes; a larger one is refused with RESOURCE_EXHAUSTED
   * as soon as its length prefix arrives. Default 2 MiB: etcd's default --max-request-bytes
   * (1.5 MiB) plus the 512 KiB etcd adds for gRPC overhead.
   */
  maxReceiveMessageBytes?: number;
  /** HTTP/2 flow-control window per stream that clients may fill (default 1 MiB). */
  initialWindowSize?: number;
  /** HTTP/2 flow-control window per connection (default 16 MiB). */
  connectionWindowSize?: number;
  /** Concurrent streams per connection (default 2^32-1, as etcd sets). */
  maxConcurrentStreams?: number;
  /** Node's per-connection memory bound for HTTP/2 state in MiB; beyond it new streams are refused (default 64). */
  maxSessionMemoryMiB?: number;
  /** Request messages a bidi call buffers for a slow handler before reading pauses (default 16). */
  streamReadHighWater?: number;
  /**
   * A new connection must send its first bytes within this time, and an HTTP/2 client must
   * acknowledge the server's first SETTINGS within it (default 10 s).
   */
  firstBytesTimeoutMs?: number;
  /** HTTP/1.x connections idle (no bytes either way) this long are closed (default 2 min). */
  httpIdleTimeoutMs?: number;
  /** close(): how long unary calls in progress may take before connections are destroyed (default 5 s). */
  closeGraceMs?: number;
  /** HTTP/1.x and non-gRPC HTTP/2 requests (default: 404 for everything). */
  onHttp?: HttpHandler;
  /** Told when calls to registered methods start and end (metrics). */
  observer?: CallObserver;
}

export type { CallObserver };

/** A method the server answers, as metrics label it. */
export interface RegisteredMethodInfo {
  readonly path: string;
  readonly service: string;
  readonly name: string;
  readonly kind: MethodKind;
}

interface RegisteredMethod extends RoutedMethod {
  readonly kind: MethodKind;
  readonly service: string;
  readonly name: string;
  readonly handler: UnaryHandler<unknown, unknown> | ServerStreamHandler<unknown, unknown> | BidiHandler<unknown, unknown> | undefined;
}

const notFound: HttpHandler = (_req, res) => {
  res.statusCode = 404;
  res.end('404 page not found\n');
};

export class GrpcServer {
  private readonly methods = new Map<string, RegisteredMethod>();
  private readonly serviceNames = new Set<string>();
  private readonly env: CallEnvironment;
  private readonly listener: net.Server;
  private readonly h2: http2.Http2Server;
  /** Turns non-gRPC HTTP/2 streams into (req, res) pairs; never listens itself. */
  private readonly h2compat: http2.Http2Server;
  private readonly h1: http.Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  /** Every open connection, whatever its protocol. */
  private readonly sockets = new Set<net.Socket>();
  /** Connections whose protocol is not known yet. */
  private readonly undecided = new Set<net.Socket>();
  /** HTTP/1.x connections, and those of them with a request in progress. */
  private readonly h1Sockets = new Set<net.Socket>();
  private readonly h1Busy = new Set<net.Socket>();
  private readonly connectionWindowSize: number;
  private readonly firstBytesTimeoutMs: number;
  private readonly closeGraceMs: number;
  private closing: Promise<void> | undefined;
  /**
   * Connections by the path they took: HTTP/1.x, the lean HTTP/2 for gRPC, HTTP/2 read by
   * node:http2 directly, or HTTP/2 through AuthorityRewriter (clients that send a URL as :authority).
   */
  readonly connectionCounts = { http1: 0, grpc: 0, h2: 0, h2Rewritten: 0 };
  /** Connections on the server's own HTTP/2 (their first request was gRPC). */
  private readonly leanConnections = new Set<H2Connection>();
  private readonly leanOptions: H2ConnectionOptions;

  constructor(options: GrpcServerOptions = {}) {
    this.env = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? 2 * 1024 * 1024,
      readHighWater: options.streamReadHighWater ?? 16,
      active: new Set<Call>(),
      observer: options.observer,
    };
    this.connectionWindowSize = options.connectionWindowSize ?? 16 * 1024 * 1024;
    this.firstBytesTimeoutMs = options.firstBytesTimeoutMs ?? 10_000;
    this.closeGraceMs = options.closeGraceMs ?? 5_000;
    const onHttp = options.onHttp ?? notFound;

    this.leanOptions = {
      initialWindowSize: options.initialWindowSize ?? 1024 * 1024,
      connectionWindowSize: this.connectionWindowSize,
      maxConcurrentStreams: options.maxConcurrentStreams ?? 2 ** 32 - 1,
      maxHeaderListBytes: MAX_HEADER_LIST_BYTES,
    };
    this.h2 = http2.createServer({
      maxSessionMemory: options.maxSessionMemoryMiB ?? 64,
      settings: {
        initialWindowSize: options.initialWindowSize ?? 1024 * 1024,
        maxConcurrentStreams: options.maxConcurrentStreams ?? 2 ** 32 - 1,
        enablePush: false,
      },
    });
    this.h2.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) =>
      this.onStream(stream, headers, flags, rawHeaders),
    );
    this.h2compat = http2.createServer();
    this.h2compat.on('request', onHttp);
    this.h1 = http.createServer();
    // Node's request/headers timeouts only run on a listening http.Server; this one never listens,
    // so idle HTTP/1 connections are bounded by socket inactivity instead.
    this.h1.setTimeout(options.httpIdleTimeoutMs ?? 120_000);
    this.h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.trackHttp1(req, res));
    this.h1.on('request', onHttp);
    this.listener = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => this.onConnection(socket));
  }

  /** Registers a service; methods without a handler answer UNIMPLEMENTED. */
  addService<S extends ServiceDefinition>(definition: S, handlers: ServiceHandlers<S>): this {
    this.serviceNames.add(definition.name);
    const byName = handlers as Readonly<Record<string, RegisteredMethod['handler']>>;
    for (const [name, method] of Object.entries(definition.methods)) {
      const path = `/${definition.name}/${name}`;
      this.methods.set(path, { ...method, path, service: definition.name, name, handler: byName[name] });
    }
    return this;
  }

  /** The methods of the services added so far. */
  registeredMethods(): RegisteredMethodInfo[] {
    return [...this.methods.values()].map(({ path, service, name, kind }) => ({ path, service, name, kind }));
  }

  /** Starts listening; resolves with the bound address (use port 0 for any free port). */
  listen(host: string, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, host, () => {
        this.listener.off('error', reject);
        resolve(this.listener.address() as net.AddressInfo);
      });
    });
  }

  get address(): net.AddressInfo | null {
    return this.listener.address() as net.AddressInfo | null;
  }

  /**
   * Graceful stop: refuse new connections, send GOAWAY, end streaming calls (Watch and the like
   * would otherwise never finish) with UNAVAILABLE, give unary calls up to `graceMs`, then
   * destroy whatever is left.
   */
  close(graceMs = this.closeGraceMs): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const call of this.env.active) if (!(call instanceof UnaryCall)) call.endEarly(TransportErrors.serverClosing);
    for (const session of this.sessions) session.close();
    for (const connection of this.leanConnections) connection.close();
    for (const socket of this.undecided) socket.destroy();
    for (const socket of this.h1Sockets) if (!this.h1Busy.has(socket)) socket.destroy();
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const call of this.env.active) call.endEarly(TransportErrors.serverClosing);
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    await listenerClosed;
  }

  private onConnection(socket: net.Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.undecided.delete(socket);
    });
    socket.on('error', ignoreError);
    this.undecided.add(socket);
    sniffProtocol(socket, this.firstBytesTimeoutMs, (protocol) => {
      if (protocol === 'h2') {
        sniffAuthority(socket, this.firstBytesTimeoutMs, (route) => this.onHttp2(socket, route));
        return;
      }
      this.undecided.delete(socket);
      this.connectionCounts.http1++;
      this.h1Sockets.add(socket);
      socket.on('close', () => this.h1Sockets.delete(socket));
      this.h1.emit('connection', socket);
    });
  }

  private onHttp2(socket: net.Socket, route: H2Route): void {
    this.undecided.delete(socket);
    if (route.kind === 'grpc') {
      this.connectionCounts.grpc++;
      const connection = new H2Connection(socket, route.received, this.leanOptions, (stream, headers) => this.onLeanStream(stream, headers), () =>
        this.leanConnections.delete(connection),
      );
      this.leanConnections.add(connection);
      return;
    }
    if (route.kind === 'native') {
      this.connectionCounts.h2++;
      this.h2.emit('connection', socket);
      return;
    }
    this.connectionCounts.h2Rewritten++;
    const rewriter = new AuthorityRewriter(socket, route.received);
    rewriter.on('error', ignoreError);
    this.h2.emit('connection', rewriter);
  }

  /** Knows which HTTP/1 connections are idle, so that close() can drop them (and only them). */
  private trackHttp1(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    this.h1Busy.add(socket);
    if (this.closing !== undefined) res.shouldKeepAlive = false;
    res.once('close', () => {
      this.h1Busy.delete(socket);
      if (this.closing !== undefined) socket.end();
    });
  }

  private onSession(session: ServerHttp2Session): void {
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', ignoreError);
    session.setLocalWindowSize(this.connectionWindowSize);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    if (!isGrpcContentType(headers['content-type'])) {
      this.h2compat.emit('stream', stream, headers, flags, rawHeaders);
      return;
    }
    stream.on('error', ignoreError);
    this.startCall(stream, headers);
  }

  /** A request on a lean connection: gRPC, or refused as grpc-go refuses other content types. */
  private onLeanStream(stream: H2Stream, headers: IncomingHttpHeaders): void {
    if (!isGrpcContentType(headers['content-type'])) {
      stream.respond({ ':status': 415, 'content-type': 'text/plain' }, { endStream: true });
      return;
    }
    this.startCall(stream, headers);
  }

  private startCall(stream: GrpcStream, headers: IncomingHttpHeaders): void {
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) return respondWithStatus(stream, this.unknownPath(path));
    const observer = this.env.observer;
    if (method.handler === undefined) {
      observer?.started(path);
      observer?.handled(path, GrpcCode.Unimplemented);
      return respondWithStatus(stream, TransportErrors.notImplemented(method.name));
    }

    const encodingHeader = headers['grpc-encoding'] as string | undefined;
    const encoding = requestEncoding(encodingHeader);
    if (encoding === undefined) return respondWithStatus(stream, TransportErrors.unsupportedEncoding(encodingHeader!));
    const timeoutHeader = headers['grpc-timeout'] as string | undefined;
    let timeoutMs: number | undefined;
    if (timeoutHeader !== undefined) {
      timeoutMs = parseGrpcTimeout(timeoutHeader);
      if (Number.isNaN(timeoutMs)) return respondWithStatus(stream, TransportErrors.malformedTimeout(timeoutHeader));
    }

    observer?.started(path);
    switch (method.kind) {
      case 'unary':
        new UnaryCall(stream, headers, method, this.env, encoding, timeoutMs, method.handler as UnaryHandler<unknown, unknown>);
        return;
      case 'serverStream':
        new ServerStreamingCall(stream, headers, method, this.env, encoding, timeoutMs, method.handler as ServerStreamHandler<unknown, unknown>);
        return;
      case 'bidi':
        new BidiStreamingCall(stream, headers, method, this.env, encoding, timeoutMs, method.handler as BidiHandler<unknown, unknown>);
        return;
    }
  }

  /** The status grpc-go gives for a path no service answers. */
  private unknownPath(path: string): GrpcError {
    const name = path.startsWith('/') ? path.slice(1) : path;
    const slash = name.lastIndexOf('/');
    if (slash < 0) return TransportErrors.malformedMethod(path);
    const service = name.slice(0, slash);
    const method = name.slice(slash + 1);
    return this.serviceNames.has(service) ? TransportErrors.unknownMethod(method, service) : TransportErrors.unknownService(service);
  }
}

