// The gRPC transport's protocol behaviour over real sockets: statuses, deadlines, cancellation,
// limits, hostile input, streaming with backpressure, HTTP routing on the shared port, shutdown.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { GrpcServer, KVService, LeaseService, MaintenanceService, WatchService } from '../../src/main/api/grpc/index.js';
import { encode, PutRequestCodec, PutResponseCodec, decode } from '../../src/main/api/proto/index.js';
import type { PutResponse, RangeResponse, SnapshotResponse, WatchResponse } from '../../src/main/api/proto/index.js';
import { GrpcCode, GrpcError } from '../../src/main/errors.js';
import { etcdctl } from '../helpers/etcdctl.js';
import { bidiCall, grpc, grpcJsClient, serverStreamCall, startUnary, unaryCall } from './grpc-js-client.js';
import { frame, rawCall } from './raw-h2.js';

const MAX_MESSAGE = 64 * 1024;
const SNAPSHOT_CHUNKS = 200;
const SNAPSHOT_CHUNK = Buffer.alloc(64 * 1024, 7);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `predicate` holds, polling; fails after `ms`. */
async function eventually(predicate: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) assert.fail('condition not reached in time');
    await sleep(10);
  }
}

describe('gRPC transport', () => {
  const server = new GrpcServer({
    maxReceiveMessageBytes: MAX_MESSAGE,
    onHttp: (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, method: req.method, httpVersion: req.httpVersion }));
    },
  });
  /** Abort reasons seen by handlers, by request key. */
  const aborts = new Map<string, unknown>();
  let address = '';
  let kv: grpc.Client;

  before(async () => {
    server.addService(KVService, {
      Put: async (req, call) => {
        const mode = req.key.toString();
        switch (mode) {
          case 'wait-for-abort':
            await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve()));
            aborts.set(mode + (req.value.toString() || ''), call.signal.reason);
            return {};
          case 'metadata':
            return { header: { revision: Number(call.metadata['x-revision']) } };
          case 'unicode-error':
            throw new GrpcError(GrpcCode.FailedPrecondition, 'ünïcödé 100% — failed');
          case 'plain-error':
            throw new TypeError('something broke');
          default:
            return { header: { revision: req.value.length, memberId: 2n ** 64n - 1n } };
        }
      },
      // A synchronous handler.
      Range: (req) => ({ kvs: [{ key: req.key, value: Buffer.from('v'), lease: -(2n ** 63n) }], count: 1 }),
    });
    server.addService(WatchService, {
      // Echo: three responses per request, waiting for the send buffer when it is full.
      Watch: async (call) => {
        for await (const req of call) {
          if (req.requestUnion !== 'createRequest') continue;
          for (let i = 0; i < 3; i++) {
            const room = call.write({ watchId: req.createRequest.watchId, events: [{ kv: { key: req.createRequest.key, version: i } }] });
            if (!room) await call.drained();
          }
        }
      },
    });
    server.addService(MaintenanceService, {
      Snapshot: async (_req, call) => {
        const failAfter = Number(call.metadata['x-fail-after'] ?? -1);
        for (let i = 0; i < SNAPSHOT_CHUNKS; i++) {
          if (i === failAfter) throw new GrpcError(GrpcCode.DataLoss, 'snapshot broke');
          if (!call.write({ remainingBytes: (SNAPSHOT_CHUNKS - i - 1) * SNAPSHOT_CHUNK.length, blob: SNAPSHOT_CHUNK })) await call.drained();
        }
      },
    });
    server.addService(LeaseService, {
      // A bidi handler that fails on its first message.
      LeaseKeepAlive: async (call) => {
        for await (const req of call) throw new GrpcError(GrpcCode.NotFound, `lease ${req.ID} not found`);
      },
    });
    const { port } = await server.listen('127.0.0.1', 0);
    address = `127.0.0.1:${port}`;
    kv = grpcJsClient(KVService, address);
  });
  after(async () => {
    kv.close();
    await server.close();
  });

  describe('unary calls', () => {
    it('carry request and response values both ways (async and sync handlers)', async () => {
      const put = await unaryCall<PutResponse>(kv, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(1000) });
      assert.equal(put.header?.revision, 1000);
      assert.equal(put.header?.memberId, 2n ** 64n - 1n);
      const range = await unaryCall<RangeResponse>(kv, 'Range', { key: Buffer.from('some/key') });
      assert.equal(range.kvs[0]?.key.toString(), 'some/key');
      assert.equal(range.kvs[0]?.lease, -(2n ** 63n));
    });

    it('pass request metadata to the handler', async () => {
      const md = new grpc.Metadata();
      md.set('x-revision', '42');
      const { result } = startUnary<PutResponse>(kv, 'Put', { key: Buffer.from('metadata') }, {}, md);
      assert.equal((await result).header?.revision, 42);
    });

    it('map handler errors to statuses; grpc-message is percent-encoded', async () => {
      await assert.rejects(unaryCall(kv, 'Put', { key: Buffer.from('unicode-error') }), (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.FAILED_PRECONDITION);
        assert.equal(e.details, 'ünïcödé 100% — failed');
        return true;
      });
      await assert.rejects(unaryCall(kv, 'Put', { key: Buffer.from('plain-error') }), (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.UNKNOWN);
        assert.equal(e.details, 'something broke');
        return true;
      });
      const raw = await rawCall(address, '/etcdserverpb.KV/Put', frame(Buffer.from(encode(PutRequestCodec, { key: Buffer.from('unicode-error') }))));
      assert.equal(raw.headers['grpc-message'], '%C3%BCn%C3%AFc%C3%B6d%C3%A9 100%25 %E2%80%94 failed');
    });

    it('answer unknown services, methods and paths with UNIMPLEMENTED in grpc-go’s words', async () => {
      const body = frame(Buffer.alloc(0));
      const cases: [string, string][] = [
        ['/etcdserverpb.Nope/Put', 'unknown service etcdserverpb.Nope'],
        ['/etcdserverpb.KV/Nope', 'unknown method Nope for service etcdserverpb.KV'],
        ['/nonsense', 'malformed method name: "/nonsense"'],
        ['/etcdserverpb.KV/Compact', 'method Compact not implemented'],
      ];
      for (const [path, message] of cases) {
        const r = await rawCall(address, path, body);
        assert.equal(r.status, GrpcCode.Unimplemented, path);
        assert.equal(r.message, message);
        assert.equal(r.headers['grpc-status'], '12', 'trailers-only response');
      }
    });

    it('reject undecodable requests with INTERNAL', async () => {
      const r = await rawCall(address, '/etcdserverpb.KV/Put', frame(Buffer.from([0x0a, 0x05, 0x01])));
      assert.equal(r.status, GrpcCode.Internal);
      assert.match(r.message!, /^grpc: error unmarshalling request: /);
      const none = await rawCall(address, '/etcdserverpb.KV/Put', Buffer.alloc(0));
      assert.equal(none.status, GrpcCode.Internal);
    });

    it('accept compressed requests (gzip, deflate) and refuse unknown encodings', async () => {
      const request = Buffer.from(encode(PutRequestCodec, { key: Buffer.from('k'), value: Buffer.alloc(5000, 'a') }));
      for (const [encoding, compress] of [['gzip', zlib.gzipSync], ['deflate', zlib.deflateSync]] as const) {
        const r = await rawCall(address, '/etcdserverpb.KV/Put', frame(compress(request), true), { headers: { 'grpc-encoding': encoding } });
        assert.equal(r.status, 0, r.message);
        assert.equal(decode(PutResponseCodec, r.body.subarray(5)).header?.revision, 5000);
      }
      const noEncoding = await rawCall(address, '/etcdserverpb.KV/Put', frame(zlib.gzipSync(request), true));
      assert.equal(noEncoding.status, GrpcCode.Internal);
      const unknown = await rawCall(address, '/etcdserverpb.KV/Put', frame(request), { headers: { 'grpc-encoding': 'snappy' } });
      assert.equal(unknown.status, GrpcCode.Unimplemented);
      assert.equal(unknown.message, 'grpc: Decompressor is not installed for grpc-encoding "snappy"');
      // And a real client configured to compress.
      const gzipClient = grpcJsClient(KVService, address, { 'grpc.default_compression_algorithm': 2 });
      const put = await unaryCall<PutResponse>(gzipClient, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(30_000) });
      assert.equal(put.header?.revision, 30_000);
      gzipClient.close();
    });
  });

  describe('deadlines and cancellation', () => {
    it('grpc-timeout ends the call with DEADLINE_EXCEEDED and aborts the handler', async () => {
      const started = Date.now();
      const body = frame(Buffer.from(encode(PutRequestCodec, { key: Buffer.from('wait-for-abort'), value: Buffer.from('deadline') })));
      const r = await rawCall(address, '/etcdserverpb.KV/Put', body, { headers: { 'grpc-timeout': '150m' } });
      assert.equal(r.status, GrpcCode.DeadlineExceeded);
      assert.equal(r.message, 'context deadline exceeded');
      assert.ok(Date.now() - started >= 140);
      await eventually(() => aborts.has('wait-for-abortdeadline'));
      assert.equal((aborts.get('wait-for-abortdeadline') as GrpcError).code, GrpcCode.DeadlineExceeded);
    });

    it('a malformed grpc-timeout is refused', async () => {
      const r = await rawCall(address, '/etcdserverpb.KV/Put', frame(Buffer.alloc(0)), { headers: { 'grpc-timeout': '12x' } });
      assert.equal(r.status, GrpcCode.Internal);
    });

    it('client cancellation (RST_STREAM) aborts the handler’s signal', async () => {
      const { call, result } = startUnary(kv, 'Put', { key: Buffer.from('wait-for-abort'), value: Buffer.from('cancel') });
      await sleep(100);
      call.cancel();
      await assert.rejects(result, (e: grpc.ServiceError) => e.code === grpc.status.CANCELLED);
      await eventually(() => aborts.has('wait-for-abortcancel'));
      assert.equal((aborts.get('wait-for-abortcancel') as GrpcError).code, GrpcCode.Canceled);
    });
  });

  describe('limits and hostile input', () => {
    it('refuses an oversized message with RESOURCE_EXHAUSTED and keeps serving the connection', async () => {
      await assert.rejects(unaryCall(kv, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(100_000) }), (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(e.details, /^grpc: received message larger than max \(\d+ vs\. 65536\)$/);
        return true;
      });
      const ok = await unaryCall<PutResponse>(kv, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(10) });
      assert.equal(ok.header?.revision, 10);
    });

    it('answers from the length prefix alone, without waiting for the body', async () => {
      const prefix = Buffer.from([0, 0x40, 0, 0, 0]); // announces 1 GiB, sends nothing more
      const r = await rawCall(address, '/etcdserverpb.KV/Put', Buffer.concat([prefix, Buffer.alloc(10)]), { keepOpen: true });
      assert.equal(r.status, GrpcCode.ResourceExhausted);
      assert.equal(r.message, `grpc: received message larger than max (${2 ** 30} vs. ${MAX_MESSAGE})`);
    });

    it('etcdctl sees the limit as grpc-go would report it', async () => {
      const r = await etcdctl(address, ['put', 'big'], { input: 'x'.repeat(100_000) });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /grpc: received message larger than max \(\d+ vs\. 65536\)/);
    });

    it('survives garbage on the socket, before and after the HTTP/2 preface', async () => {
      const garbage = [
        Buffer.from([0xff, 0x00, 0x13, 0x37, 0x42, 0x99, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14]),
        Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('this is not a settings frame at all, not even close')]),
      ];
      for (const bytes of garbage) {
        const socket = net.connect(Number(address.split(':')[1]), '127.0.0.1');
        socket.on('error', () => {});
        socket.on('data', () => {});
        socket.write(bytes);
        await new Promise((resolve) => socket.once('close', resolve));
      }
      const ok = await unaryCall<PutResponse>(kv, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(3) });
      assert.equal(ok.header?.revision, 3);
    });
  });

  describe('streaming', () => {
    it('bidi: thousands of messages both ways, in order, with backpressure', async () => {
      const watch = grpcJsClient(WatchService, address);
      const stream = bidiCall(watch, 'Watch');
      const n = 3000;
      const received: WatchResponse[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on('data', (m: WatchResponse) => received.push(m));
        stream.on('error', reject);
        stream.on('end', resolve);
      });
      for (let i = 1; i <= n; i++) {
        if (!stream.write({ createRequest: { key: Buffer.from(`key-${i}`), watchId: i } })) await new Promise((r) => stream.once('drain', r));
      }
      stream.end();
      await done;
      assert.equal(received.length, 3 * n);
      received.forEach((m, j) => {
        assert.equal(m.watchId, Math.floor(j / 3) + 1);
        assert.equal(m.events[0]!.kv!.version, j % 3);
      });
      watch.close();
    });

    it('bidi: a handler that does not read stops the client (flow control), then catches up', async () => {
      const slow = new GrpcServer({ initialWindowSize: 256 * 1024, streamReadHighWater: 4 });
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      let read = 0;
      slow.addService(WatchService, {
        Watch: async (call) => {
          await gate;
          for await (const _ of call) read++;
        },
      });
      const { port } = await slow.listen('127.0.0.1', 0);
      const watch = grpcJsClient(WatchService, `127.0.0.1:${port}`);
      const stream = bidiCall(watch, 'Watch');
      stream.on('data', () => {});
      const ended = new Promise((resolve) => stream.on('end', resolve));
      const payload = Buffer.alloc(60_000);
      // Write until the client stays blocked for 300 ms.
      let written = 0;
      let drained: Promise<unknown> | undefined;
      while (written < 200) {
        written++;
        if (stream.write({ createRequest: { key: Buffer.from('k'), rangeEnd: payload } })) continue;
        drained = new Promise((resolve) => stream.once('drain', resolve));
        const outcome = await Promise.race([drained.then(() => 'drained'), sleep(300).then(() => 'blocked')]);
        if (outcome === 'blocked') break;
        drained = undefined;
      }
      assert.ok(drained !== undefined, 'the client never stayed blocked');
      // Bounded by the stream window (256 KiB), the read buffers and the handler queue (4 messages).
      assert.ok(written * payload.length < 2 * 1024 * 1024, `the server took ${written} messages unread`);
      openGate();
      await drained;
      stream.end();
      await ended;
      assert.equal(read, written);
      watch.close();
      await slow.close();
    });

    it('bidi: a handler error ends the stream with its status', async () => {
      const lease = grpcJsClient(LeaseService, address);
      const stream = bidiCall(lease, 'LeaseKeepAlive');
      const failed = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.on('data', () => {});
      stream.write({ ID: 2n ** 62n });
      const e = await failed;
      assert.equal(e.code, grpc.status.NOT_FOUND);
      assert.equal(e.details, `lease ${2n ** 62n} not found`);
      lease.close();
    });

    it('server streaming: megabytes through the send buffer, then a status', async () => {
      const maintenance = grpcJsClient(MaintenanceService, address);
      let bytes = 0;
      let last: SnapshotResponse | undefined;
      await new Promise<void>((resolve, reject) => {
        const stream = serverStreamCall(maintenance, 'Snapshot', {});
        stream.on('data', (m: SnapshotResponse) => {
          bytes += m.blob.length;
          last = m;
        });
        stream.on('error', reject);
        stream.on('end', resolve);
      });
      assert.equal(bytes, SNAPSHOT_CHUNKS * SNAPSHOT_CHUNK.length);
      assert.equal(last?.remainingBytes, 0);

      const md = new grpc.Metadata();
      md.set('x-fail-after', '5');
      let count = 0;
      const e = await new Promise<grpc.ServiceError>((resolve) => {
        const stream = (maintenance as unknown as Record<string, (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>>)
          .Snapshot!.call(maintenance, {}, md);
        stream.on('data', () => count++);
        stream.on('error', resolve);
      });
      assert.equal(count, 5);
      assert.equal(e.code, grpc.status.DATA_LOSS);
      assert.equal(e.details, 'snapshot broke');
      maintenance.close();
    });
  });

  describe('HTTP on the gRPC port', () => {
    it('routes HTTP/1.1 requests to onHttp', async () => {
      const res = await fetch(`http://${address}/version`);
      assert.deepEqual(await res.json(), { url: '/version', method: 'GET', httpVersion: '1.1' });
    });

    it('routes HTTP/2 requests that are not gRPC to onHttp', async () => {
      const session = http2.connect(`http://${address}`);
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/v3/kv/range', ':method': 'POST', 'content-type': 'application/json' });
        let data = '';
        req.on('data', (c: Buffer) => (data += c.toString()));
        req.on('end', () => resolve(data));
        req.on('error', reject);
        req.end('{"key":"Zm9v"}');
      });
      session.close();
      assert.deepEqual(JSON.parse(body), { url: '/v3/kv/range', method: 'POST', httpVersion: '2.0' });
    });

    it('on a connection that began with gRPC, a request that is not gRPC gets 415, as from grpc-go', async () => {
      const session = http2.connect(`http://${address}`);
      try {
        await unaryCallOn(session, '/etcdserverpb.KV/Range');
        const status = await new Promise<number>((resolve, reject) => {
          const req = session.request({ ':path': '/version', ':method': 'GET' });
          req.on('response', (h) => resolve(Number(h[':status'])));
          req.on('error', reject);
          req.end();
        });
        assert.equal(status, 415);
        await unaryCallOn(session, '/etcdserverpb.KV/Range');
      } finally {
        session.close();
      }
    });

    it('sends no more than the client’s flow-control windows allow, and everything once they open', async () => {
      // A client window of 1,000 bytes per stream: the server's 64 KiB snapshot chunks go out in pieces.
      const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 1000 } });
      try {
        const body = await new Promise<Buffer>((resolve, reject) => {
          const req = session.request({ ':path': '/etcdserverpb.Maintenance/Snapshot', ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' });
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => {
            assert.ok(c.length <= 1000, `${c.length} bytes in one piece`);
            chunks.push(c);
          });
          req.on('trailers', (t) => assert.equal(t['grpc-status'], '0'));
          req.on('end', () => resolve(Buffer.concat(chunks)));
          req.on('error', reject);
          req.end(frame(Buffer.alloc(0)));
        });
        let blobBytes = 0;
        for (let at = 0; at < body.length; ) {
          const length = body.readUInt32BE(at + 1);
          blobBytes += length;
          at += 5 + length;
        }
        assert.ok(blobBytes > SNAPSHOT_CHUNKS * SNAPSHOT_CHUNK.length, `${blobBytes} bytes of messages`);
      } finally {
        session.close();
      }
    });
  });
});

describe('GrpcServer.close', () => {
  it('lets unary calls finish, ends streams with UNAVAILABLE, then stops accepting', async () => {
    const server = new GrpcServer();
    server.addService(KVService, {
      Put: async () => {
        await sleep(300);
        return { header: { revision: 7 } };
      },
    });
    server.addService(WatchService, {
      Watch: async (call) => {
        for await (const _ of call);
      },
    });
    const { port } = await server.listen('127.0.0.1', 0);
    const address = `127.0.0.1:${port}`;
    const kv = grpcJsClient(KVService, address);
    const watch = grpcJsClient(WatchService, address);
    const stream = bidiCall(watch, 'Watch');
    const streamError = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.write({ progressRequest: {} });
    const pending = unaryCall<PutResponse>(kv, 'Put', {});
    await sleep(100);

    const started = Date.now();
    await server.close(2000);
    assert.ok(Date.now() - started < 1500, 'close waited for the unary call only');
    assert.equal((await pending).header?.revision, 7);
    assert.equal((await streamError).code, grpc.status.UNAVAILABLE);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      }),
    );
    kv.close();
    watch.close();
  });
});

/** A gRPC call with an empty request on an open session; resolves with its grpc-status. */
function unaryCallOn(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' });
    let status: string | undefined;
    req.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
    req.on('trailers', (t) => (status = t['grpc-status'] as string));
    req.on('data', () => {});
    req.on('end', () => (status === '0' ? resolve(status) : reject(new Error(`grpc-status ${status}`))));
    req.on('error', reject);
    req.end(frame(Buffer.alloc(0)));
  });
}
