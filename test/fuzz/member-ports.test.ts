// Fuzzing a running member over real sockets: mutated HTTP/2 connections and random bytes on
// its client port, gRPC calls with mutated bodies (read-only methods) or undecodable ones
// (methods that write), and random or mutated frames on its peer port. The member must answer
// or close each connection in bounded time, stay up, and keep its data exactly as it was.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { encode, ProtoDecodeError, decode, type MessageCodec } from '../../src/main/api/proto/index.js';
import { ClusterService, KVService, LeaseService, MaintenanceService } from '../../src/main/api/grpc/etcd-services.js';
import type { SeededRandom } from '../../src/main/faults/random.js';
import { encodeHello, encodeMessages, LinkKind, PROTOCOL_VERSION } from '../../src/main/peer/wire.js';
import { MessageType } from '../../src/main/raft/types.js';
import { server, type ServerProcess } from '../helpers/processes.js';
import { KvClient } from '../nemesis/kv-client.js';
import { fingerprint, fuzzLoop, mutate, noHang, randomBytes, type DataFingerprint } from './fuzz-kit.js';

let member: ServerProcess;
let before_: DataFingerprint;

before(async () => {
  member = await server('tsetcd');
  await member.start();
  const kv = new KvClient(member.clientUrl);
  for (let i = 0; i < 50; i++) await kv.put(`fuzz/${i}`, `value-${i}`, 5000);
  kv.close();
  before_ = await fingerprint(member.clientUrl);
});

after(async () => {
  await member.destroy();
});

/** The member is up and holds exactly what it held before the fuzzing. */
async function assertIntact(): Promise<void> {
  assert.ok(member.alive, `the member died:\n${member.log.slice(-3000)}`);
  assert.deepEqual(await fingerprint(member.clientUrl), before_);
  assert.doesNotMatch(member.log, /"level":"fatal"|uncaught|Unhandled/i);
}

/** Sends `bytes` on a fresh connection and waits until the member closes it or stays quiet; never longer than `ms`. */
async function sendRaw(port: number, bytes: Buffer, ms: number): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  try {
    await new Promise<void>((resolve) => {
      let idle = setTimeout(resolve, ms);
      socket.on('data', () => {
        clearTimeout(idle);
        idle = setTimeout(resolve, 50);
      });
      socket.once('close', () => {
        clearTimeout(idle);
        resolve();
      });
      socket.once('connect', () => socket.write(bytes));
    });
  } finally {
    socket.destroy();
  }
}

/** What a real HTTP/2 client sends for a gRPC Range call: the corpus for connection-level mutation. */
async function recordClientBytes(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const recorder = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: member.clientPort });
    client.on('data', (d: Buffer) => {
      chunks.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  const kv = new KvClient(`http://127.0.0.1:${(recorder.address() as net.AddressInfo).port}`);
  await kv.get('fuzz/1', 5000);
  kv.close();
  await new Promise<void>((r) => recorder.close(() => r()));
  return Buffer.concat(chunks);
}

test('client port: random bytes and mutated HTTP/2 connections', async () => {
  const recorded = await recordClientBytes();
  assert.ok(recorded.length > 50);
  const ran = await fuzzLoop('client-port', { seed: 31337, ms: 4000, maxIterations: 300 }, async (rnd) => {
    const bytes = rnd.chance(0.2) ? randomBytes(rnd, 200) : mutate(rnd, recorded);
    await noHang(sendRaw(member.clientPort, bytes, 100), 5000, 'a mutated connection');
  });
  assert.ok(ran > 20);
  await assertIntact();
});

interface Target {
  path: string;
  codec: MessageCodec<unknown>;
  writes: boolean;
}

function targets(): Target[] {
  const out: Target[] = [];
  const readOnly: Record<string, readonly string[]> = {
    [KVService.name]: ['Range'],
    [MaintenanceService.name]: ['Status', 'Hash', 'HashKV'],
    [ClusterService.name]: ['MemberList'],
    [LeaseService.name]: ['LeaseTimeToLive', 'LeaseLeases'],
  };
  for (const svc of [KVService, MaintenanceService, ClusterService, LeaseService]) {
    for (const [name, method] of Object.entries(svc.methods) as [string, { request: MessageCodec<unknown> }][]) {
      if (name === 'Snapshot' || name === 'LeaseKeepAlive' || name === 'Defragment') continue; // streams, and slow on purpose
      out.push({ path: `/${svc.name}/${name}`, codec: method.request, writes: !(readOnly[svc.name] ?? []).includes(name) });
    }
  }
  return out;
}

/** One gRPC call with `body` as the whole request stream; resolves with grpc-status (or -1 for a reset). */
function call(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let status = -1;
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
    });
    req.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) status = Number(t['grpc-status']);
    });
    req.on('data', () => undefined);
    req.on('error', () => undefined);
    req.on('close', () => resolve(status));
    req.end(body);
  });
}

function frameOf(payload: Buffer, rnd: SeededRandom): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(payload.length, 1);
  // Now and then a lying length or a compressed flag nobody negotiated.
  if (rnd.chance(0.05)) prefix.writeUInt32BE(payload.length + rnd.between(1, 100), 1);
  if (rnd.chance(0.05)) prefix[0] = rnd.between(1, 255);
  return Buffer.concat([prefix, payload]);
}

test('gRPC calls: mutated bodies to read-only methods, undecodable ones to methods that write', async () => {
  const all = targets();
  let session = http2.connect(member.clientUrl);
  session.on('error', () => undefined);
  const statuses = new Map<number, number>();
  try {
    await fuzzLoop('grpc-calls', { seed: 9001, ms: 5000, maxIterations: 2000 }, async (rnd) => {
      if (session.closed || session.destroyed) {
        session = http2.connect(member.clientUrl);
        session.on('error', () => undefined);
      }
      const t = rnd.pick(all);
      let body = mutate(rnd, Buffer.from(encode(t.codec, {})));
      if (t.writes) {
        // Only bodies the server cannot decode: none of them may change anything.
        let decodable = true;
        for (let i = 0; i < 20 && decodable; i++) {
          try {
            decode(t.codec, body);
            body = Buffer.concat([body, Buffer.from([0xff])]);
          } catch (e) {
            if (!(e instanceof ProtoDecodeError)) throw e;
            decodable = false;
          }
        }
        if (decodable) return;
      }
      const path = rnd.chance(0.05) ? `/etcdserverpb.KV/${randomBytes(rnd, 8).toString('hex')}` : t.path;
      const status = await noHang(call(session, path, frameOf(body, rnd)), 5000, `${path}`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (t.writes && status === 0) assert.fail(`${path} accepted an undecodable body ${body.toString('hex')}`);
    });
  } finally {
    session.destroy();
  }
  assert.ok((statuses.get(0) ?? 0) > 0, `no call succeeded: ${JSON.stringify([...statuses])}`);
  await assertIntact();
});

test('peer port: random bytes, mutated Hellos and message batches', async () => {
  const hello = encodeHello({ version: PROTOCOL_VERSION, clusterId: 1n, from: 2n, to: 3n, link: LinkKind.Raft });
  const batch = encodeMessages([{ type: MessageType.App, from: 2n, to: 3n, term: 9, index: 1, logTerm: 1, entries: [], commit: 1, reject: false, rejectHint: 0 }], 0, 1);
  const samples = [hello, batch, Buffer.concat([hello, batch])];
  const ran = await fuzzLoop('peer-port', { seed: 5150, ms: 3000, maxIterations: 300 }, async (rnd) => {
    const bytes = rnd.chance(0.2) ? randomBytes(rnd, 100) : mutate(rnd, rnd.pick(samples), samples);
    await noHang(sendRaw(member.peerPort, bytes, 100), 7000, 'a mutated peer connection');
  });
  assert.ok(ran > 10);
  await assertIntact();
});
