// gRPC status on the wire: the grpc-status / grpc-message header pair, sent as trailers or as a
// trailers-only response.

import type { OutgoingHttpHeaders } from 'node:http2';
import { GrpcCode, GrpcError } from '../../errors.js';

export const GRPC_CONTENT_TYPE = 'application/grpc';

/** application/grpc, application/grpc+proto, application/grpc;charset=... */
export function isGrpcContentType(contentType: string | undefined): boolean {
  return (
    contentType !== undefined &&
    contentType.startsWith(GRPC_CONTENT_TYPE) &&
    (contentType.length === GRPC_CONTENT_TYPE.length || contentType[GRPC_CONTENT_TYPE.length] === '+' || contentType[GRPC_CONTENT_TYPE.length] === ';')
  );
}

/** Response headers of every call that sends at least one message. */
export const RESPONSE_HEADERS: OutgoingHttpHeaders = { ':status': 200, 'content-type': GRPC_CONTENT_TYPE };

export const OK_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': '0' };

/** Trailers (or the status part of a trailers-only response) for an error. */
export function errorTrailers(e: GrpcError): OutgoingHttpHeaders {
  return { 'grpc-status': String(e.code), 'grpc-message': percentEncode(e.message) };
}

/** A complete trailers-only response: headers and status in one HEADERS frame. */
export function trailersOnly(e: GrpcError | undefined): OutgoingHttpHeaders {
  if (e === undefined) return { ...RESPONSE_HEADERS, ...OK_TRAILERS };
  return { ...RESPONSE_HEADERS, ...errorTrailers(e) };
}

/**
 * grpc-message encoding from the gRPC HTTP/2 spec: UTF-8 bytes outside printable ASCII, and '%'
 * itself, become %XX.
 */
function percentEncode(message: string): string {
  if (isPlainAscii(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) return false;
  }
  return true;
}

// Statuses the transport produces itself; message texts follow grpc-go so clients see the same.
export const TransportErrors = {
  cancelled: new GrpcError(GrpcCode.Canceled, 'context canceled'),
  deadlineExceeded: new GrpcError(GrpcCode.DeadlineExceeded, 'context deadline exceeded'),
  serverClosing: new GrpcError(GrpcCode.Unavailable, 'transport is closing'),
  noRequest: new GrpcError(GrpcCode.Internal, 'grpc: no request message received'),
  unexpectedPayloadFormat: new GrpcError(GrpcCode.Internal, 'grpc: received unexpected payload format'),
  compressedWithoutEncoding: new GrpcError(GrpcCode.Internal, 'grpc: compressed flag set with identity or empty encoding'),
  tooLarge: (size: number, max: number) =>
    new GrpcError(GrpcCode.ResourceExhausted, `grpc: received message larger than max (${size} vs. ${max})`),
  tooLargeAfterDecompression: (max: number) =>
    new GrpcError(GrpcCode.ResourceExhausted, `grpc: received message after decompression larger than max (${max})`),
  unsupportedEncoding: (encoding: string) =>
    new GrpcError(GrpcCode.Unimplemented, `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`),
  malformedTimeout: (value: string) => new GrpcError(GrpcCode.Internal, `malformed grpc-timeout: ${value}`),
  decompress: (detail: string) => new GrpcError(GrpcCode.Internal, `grpc: failed to decompress the received message: ${detail}`),
  unmarshal: (detail: string) => new GrpcError(GrpcCode.Internal, `grpc: error unmarshalling request: ${detail}`),
  malformedMethod: (path: string) => new GrpcError(GrpcCode.Unimplemented, `malformed method name: "${path}"`),
  unknownService: (service: string) => new GrpcError(GrpcCode.Unimplemented, `unknown service ${service}`),
  unknownMethod: (method: string, service: string) =>
    new GrpcError(GrpcCode.Unimplemented, `unknown method ${method} for service ${service}`),
  notImplemented: (method: string) => new GrpcError(GrpcCode.Unimplemented, `method ${method} not implemented`),
} as const;
