// tsetcd's gRPC transport: the server, service tables and handler types.

export { GrpcServer, type GrpcServerOptions, type HttpHandler } from './server.js';
export {
  bidi, serverStream, service, unary,
  type BidiCall, type BidiHandler, type CallContext, type HandlerFor, type MethodDefinition, type MethodKind,
  type MethodTable, type ResponseStream, type ServerStreamHandler, type ServiceDefinition, type ServiceHandlers, type UnaryHandler,
} from './service.js';
export * from './etcd-services.js';
