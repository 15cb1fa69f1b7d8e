// Compressed request messages (grpc-encoding gzip or deflate). Responses are never compressed:
// the server is free to answer with identity.

import zlib from 'node:zlib';

export type Encoding = 'gzip' | 'deflate';

/** The request's grpc-encoding: null for identity, undefined when not supported. */
export function requestEncoding(header: string | undefined): Encoding | null | undefined {
  if (header === undefined || header === 'identity') return null;
  if (header === 'gzip' || header === 'deflate') return header;
  return undefined;
}

/** Throws a RangeError with code ERR_BUFFER_TOO_LARGE when the output would exceed `maxBytes`. */
export function decompress(encoding: Encoding, payload: Buffer, maxBytes: number): Buffer {
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  return encoding === 'gzip' ? zlib.gunzipSync(payload, options) : zlib.inflateSync(payload, options);
}

export function isTooLarge(e: unknown): boolean {
  return e instanceof RangeError && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
}
