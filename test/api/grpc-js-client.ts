// Test support: an @grpc/grpc-js client for any of tsetcd's service tables, serializing with
// tsetcd's own codecs, so tests can drive the transport with a second, independent HTTP/2 + gRPC
// implementation.

import * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '../../src/main/api/grpc/index.js';
import { decode, encode, type Init } from '../../src/main/api/proto/index.js';

export function grpcJsClient(definition: ServiceDefinition, address: string, options: grpc.ClientOptions = {}): grpc.Client {
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition.methods)) {
    methods[name] = {
      path: `/${definition.name}/${name}`,
      requestStream: method.kind === 'bidi',
      responseStream: method.kind !== 'unary',
      requestSerialize: (m: unknown) => Buffer.from(encode(method.request, m as Init<unknown>)),
      requestDeserialize: (b: Buffer) => decode(method.request, b),
      responseSerialize: (m: unknown) => Buffer.from(encode(method.response, m as Init<unknown>)),
      responseDeserialize: (b: Buffer) => decode(method.response, b),
    };
  }
  const Client = grpc.makeGenericClientConstructor(methods, definition.name);
  return new Client(address, grpc.credentials.createInsecure(), options);
}

type UnaryFn = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<unknown>) => grpc.ClientUnaryCall;

/** Starts a unary call: `call` can cancel it, `result` settles with the response or grpc-js's ServiceError. */
export function startUnary<Res>(
  client: grpc.Client,
  method: string,
  request: unknown,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata(),
): { call: grpc.ClientUnaryCall; result: Promise<Res> } {
  const fn = (client as unknown as Record<string, UnaryFn>)[method]!;
  let call!: grpc.ClientUnaryCall;
  const result = new Promise<Res>((resolve, reject) => {
    call = fn.call(client, request, metadata, options, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
  return { call, result };
}

export function unaryCall<Res>(client: grpc.Client, method: string, request: unknown, options: grpc.CallOptions = {}): Promise<Res> {
  return startUnary<Res>(client, method, request, options).result;
}

/** Opens a bidi stream. */
export function bidiCall(client: grpc.Client, method: string): grpc.ClientDuplexStream<unknown, unknown> {
  return (client as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, unknown>>)[method]!.call(client);
}

/** Opens a server-streaming call. */
export function serverStreamCall(client: grpc.Client, method: string, request: unknown): grpc.ClientReadableStream<unknown> {
  return (client as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<unknown>>)[method]!.call(client, request);
}

export { grpc };
