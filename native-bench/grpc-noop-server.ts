// Child process of grpc-noop.ts: a gRPC server whose KV handlers answer at once and store nothing.
//   node --import tsx native-bench/grpc-noop-server.ts tsetcd|grpc-js|h2-floor
// h2-floor is the least a node:http2 server can do per call (answer a canned response when the
// request's first DATA arrives, parse nothing): the ceiling for any transport built on node:http2.
// Sends {port} to the parent when listening; answers 'count' with the number of Puts handled and
// exits on 'exit'. 'profile-start' / 'profile-stop:<file>' record a CPU profile of the window.

import fs from 'node:fs';
import http2 from 'node:http2';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcServer, KVService } from '../src/main/api/grpc/index.js';
import { encode, PutResponseCodec } from '../src/main/api/proto/index.js';

const kind = process.argv[2];
let puts = 0;
const header = { clusterId: 14841639068965178418n, memberId: 10276657743932975437n, revision: 1, raftTerm: 2 };

async function serveTsetcd(): Promise<number> {
  const server = new GrpcServer();
  const answer = () => ({ header });
  server.addService(KVService, {
    Put: () => {
      puts++;
      return { header };
    },
    Range: answer,
    DeleteRange: answer,
    Txn: answer,
    Compact: answer,
  });
  return (await server.listen('127.0.0.1', 0)).port;
}

function serveGrpcJs(): Promise<number> {
  const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proto');
  const definition = protoLoader.loadSync('etcdserverpb/rpc.proto', { includeDirs: [protoDir], longs: String, defaults: false });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    etcdserverpb: { KV: { service: grpc.ServiceDefinition } };
  };
  const wireHeader = { clusterId: header.clusterId.toString(), memberId: header.memberId.toString(), revision: 1, raftTerm: 2 };
  const answer: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) => callback(null, { header: wireHeader });
  const server = new grpc.Server();
  server.addService(pkg.etcdserverpb.KV.service, {
    Put: ((_call, callback) => {
      puts++;
      callback(null, { header: wireHeader });
    }) as grpc.handleUnaryCall<unknown, unknown>,
    Range: answer,
    DeleteRange: answer,
    Txn: answer,
    Compact: answer,
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

function serveH2Floor(): Promise<number> {
  const body = encode(PutResponseCodec, { header });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  const server = http2.createServer({ settings: { initialWindowSize: 1 << 20, maxConcurrentStreams: 2 ** 32 - 1 } });
  const respondOptions = { waitForTrailers: true, sendDate: false };
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/etcdserverpb.KV/Put') puts++;
    stream.on('error', () => {});
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    let answered = false;
    stream.on('data', () => {
      if (answered) return;
      answered = true;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, respondOptions);
      stream.end(frame);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

const servers: Record<string, () => Promise<number>> = { tsetcd: serveTsetcd, 'grpc-js': serveGrpcJs, 'h2-floor': serveH2Floor };
const serve = servers[kind ?? ''];
if (serve === undefined) throw new Error(`unknown server kind ${kind}`);
const port = await serve();

const inspector = new Session();
process.on('message', async (msg) => {
  if (msg === 'count') process.send!({ puts });
  if (msg === 'exit') process.exit(0);
  if (msg === 'profile-start') {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  if (typeof msg === 'string' && msg.startsWith('profile-stop:')) {
    const { profile } = await inspector.post('Profiler.stop');
    fs.writeFileSync(msg.slice('profile-stop:'.length), JSON.stringify(profile));
    process.send!({ profiled: true });
  }
});
process.send!({ port });
