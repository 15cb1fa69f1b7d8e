// By-hand measurement behind the bench's choice of gRPC client: the same unary load through the
// bench's node:http2 client (GrpcChannel) and through @grpc/grpc-js with the same codecs, reporting
// throughput and the generator's CPU time per call. Not part of the test suite.
//
//   node --import tsx test/bench-tool/grpc-client-comparison.ts <host:port> [conns] [concurrency] [calls] [put|range]

import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { decode, encode } from '../../src/main/api/proto/codec.js';
import { KVService } from '../../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../../src/main/api/grpc/framing.js';
import { GrpcChannel, grpcMethod, type GrpcMethod } from '../../src/main/api/grpc/client.js';

type Call = () => Promise<unknown>;

const KEY = Buffer.from('grpc-client-comparison');
const VALUE = Buffer.alloc(256, 1);

function ownClient(channels: GrpcChannel[], kind: 'put' | 'range'): Call[] {
  const put = grpcMethod(KVService, 'Put');
  const range = grpcMethod(KVService, 'Range');
  return channels.map((ch) =>
    kind === 'put'
      ? () => ch.unary(put, encodeFrame(put.request, { key: KEY, value: VALUE }))
      : () => ch.unary(range, encodeFrame(range.request, { key: KEY, serializable: true })),
  );
}

function grpcJsCall<Req, Res>(client: grpc.Client, path: string, method: GrpcMethod<Req, Res>, request: Parameters<typeof encode<Req>>[1]): Call {
  return () =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        path,
        (m: typeof request) => encode(method.request, m),
        (b: Buffer) => decode(method.response, b),
        request,
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
}

function grpcJsClients(address: string, conns: number, kind: 'put' | 'range'): { calls: Call[]; close: () => void } {
  // A local subchannel pool per client: one TCP connection each, like GrpcChannel.
  const clients = Array.from({ length: conns }, () => new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const put = grpcMethod(KVService, 'Put');
  const range = grpcMethod(KVService, 'Range');
  const calls = clients.map((c) =>
    kind === 'put'
      ? grpcJsCall(c, '/etcdserverpb.KV/Put', put, { key: KEY, value: VALUE })
      : grpcJsCall(c, '/etcdserverpb.KV/Range', range, { key: KEY, serializable: true }),
  );
  return { calls, close: () => clients.forEach((c) => c.close()) };
}

async function drive(calls: Call[], concurrency: number, total: number): Promise<{ perSec: number; cpuUsPerCall: number }> {
  let issued = 0;
  const worker = async (w: number) => {
    while (issued < total) {
      issued++;
      await calls[w % calls.length]!();
    }
  };
  // Warm up (JIT, connections), then measure.
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  issued = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const secs = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSec: total / secs, cpuUsPerCall: (used.user + used.system) / total };
}

const [address = '127.0.0.1:2379', conns = '16', concurrency = '500', calls = '50000', kind = 'range'] = process.argv.slice(2);
if (kind !== 'put' && kind !== 'range') throw new Error('kind: put or range');
const n = { conns: Number(conns), concurrency: Number(concurrency), calls: Number(calls) };

const channels = await Promise.all(Array.from({ length: n.conns }, () => GrpcChannel.connect(`http://${address}`)));
const own = await drive(ownClient(channels, kind), n.concurrency, n.calls);
await Promise.all(channels.map((c) => c.close()));

const js = grpcJsClients(address, n.conns, kind);
const viaGrpcJs = await drive(js.calls, n.concurrency, n.calls);
js.close();

const line = (name: string, r: { perSec: number; cpuUsPerCall: number }) =>
  `${name.padEnd(22)} ${r.perSec.toFixed(0).padStart(8)} calls/s  ${r.cpuUsPerCall.toFixed(1).padStart(6)} µs CPU per call`;
console.log(`${kind}, ${n.conns} connections, ${n.concurrency} concurrent, ${n.calls} calls`);
console.log(line('node:http2 GrpcChannel', own));
console.log(line('@grpc/grpc-js', viaGrpcJs));
