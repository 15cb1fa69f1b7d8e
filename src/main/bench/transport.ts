// The client side of a protocol, as the workloads see it. A transport (gRPC now; the WebSocket
// API later) implements EtcdConnection for one endpoint; workloads only ever talk to this.
//
// Contract for implementers:
// - Buffers passed in (keys, values) are scratch buffers the caller reuses right after the call
//   returns: encode or copy them synchronously.
// - Failures reject with a GrpcError (the project's typed status error: code + message) when the
//   server answered with a status, and with any Error for transport failures (connection lost,
//   stream reset). The bench counts errors by errorKey(), so stable messages group well.
// - Calls made while the connection is down either wait for a reconnection or fail; they must
//   not fail in a tight loop (the gRPC transport spaces reconnection attempts out).

import { GrpcError } from '../errors.js';
import type { Endpoint, Protocol } from './flags.js';
import { grpcTransport } from './grpc-transport.js';
import { wsTransport } from './ws-transport.js';

export interface ClientTransport {
  readonly protocol: Protocol;
  /** Opens one connection; rejects if the endpoint cannot be reached. */
  connect(endpoint: Endpoint): Promise<EtcdConnection>;
}

/** One connection to one endpoint, shared by many concurrent calls. */
export interface EtcdConnection {
  /** Resolves once the put is acknowledged (the resolved value is not used). */
  put(key: Uint8Array, value: Uint8Array): Promise<unknown>;
  /** A single-key range; `serializable` reads the member's local state. */
  range(key: Uint8Array, serializable: boolean): Promise<unknown>;
  /** A Txn without compares whose success branch puts `value` under each of `keys`. */
  txnPuts(keys: readonly Uint8Array[], value: Uint8Array): Promise<unknown>;
  /** Grants a lease; resolves with its ID. */
  leaseGrant(ttlSeconds: number): Promise<bigint>;
  leaseRevoke(id: bigint): Promise<unknown>;
  openKeepAliveStream(): Promise<KeepAliveStream>;
  openWatchStream(listener: WatchListener): Promise<WatchStream>;
  /** Closes the connection once calls in flight are done. */
  close(): Promise<void>;
  /** Closes the connection now; calls in flight fail. */
  destroy(): void;
}

export interface KeepAliveStream {
  /** One keepalive round trip; resolves with the TTL the server granted (0: lease not found). */
  keepAlive(id: bigint): Promise<number>;
  close(): void;
}

/** The part of a watch event the bench reads (structurally, the protobuf Event fits). */
export interface WatchedEvent {
  readonly kv?: { readonly key: Uint8Array; readonly value: Uint8Array } | undefined;
}

export interface WatchListener {
  onEvents(watchId: number, events: readonly WatchedEvent[]): void;
  /** The server cancelled a watch, or the stream ended with an error. */
  onError(error: Error): void;
}

export interface WatchStream {
  /** Creates a watch on [key, rangeEnd) from now on; resolves with its watch ID once created. */
  watch(key: Uint8Array, rangeEnd: Uint8Array): Promise<number>;
  close(): void;
}

export class TransportUnavailableError extends Error {
  override name = 'TransportUnavailableError';
}

export function transportFor(protocol: Protocol): ClientTransport {
  switch (protocol) {
    case 'grpc':
      return grpcTransport;
    case 'ws':
      return wsTransport;
  }
}

const GRPC_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];

/** How an error is counted and printed: gRPC statuses as Go's clients print them. */
export function errorKey(e: unknown): string {
  if (e instanceof GrpcError) return `rpc error: code = ${GRPC_CODE_NAMES[e.code] ?? `Code(${e.code})`} desc = ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
