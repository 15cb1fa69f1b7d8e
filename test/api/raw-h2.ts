// Test support: hand-made gRPC requests over node:http2, for what regular clients never send
// (server-side deadlines without a client deadline, lying length prefixes, odd headers).

import http2 from 'node:http2';

export interface RawResponse {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
  /** grpc-status from trailers, or from the headers of a trailers-only response. */
  status: number;
  message: string | undefined;
  /** The RST_STREAM code if the server reset the stream. */
  rstCode: number;
}

export function frame(payload: Buffer, compressed = false): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** Sends one gRPC request (`body` as is, then END_STREAM unless `keepOpen`) and collects the reply. */
export function rawCall(
  address: string,
  path: string,
  body: Buffer,
  options: { headers?: http2.OutgoingHttpHeaders; keepOpen?: boolean } = {},
): Promise<RawResponse> {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => {});
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...options.headers,
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      session.close();
      const statusHeader = trailers['grpc-status'] ?? headers['grpc-status'];
      if (statusHeader === undefined && req.rstCode === undefined) return reject(new Error('no status'));
      resolve({
        headers,
        trailers,
        body: Buffer.concat(chunks),
        status: Number(statusHeader ?? -1),
        message: decodeURIComponent((trailers['grpc-message'] ?? headers['grpc-message'] ?? '') as string) || undefined,
        rstCode: req.rstCode ?? 0,
      });
    });
    req.write(body);
    if (!options.keepOpen) req.end();
  });
}
