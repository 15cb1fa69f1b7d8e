// Watch at scale and under stress, on bin/tsetcd: 10,000 watchers each receive every event of
// 1,000 puts, in order, exactly once; a client that stops reading its stream while writes go on
// neither blocks the writes nor the other watchers, and then gets every event once, in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { grpcMethod, GrpcChannel } from '../../src/main/api/grpc/client.js';
import { KVService } from '../../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../../src/main/api/grpc/framing.js';
import { startServer, type ServerProcess } from '../helpers/processes.js';
import { connectLean, LeanWatchStream } from '../watch/lean-watch.js';

const PUT = grpcMethod(KVService, 'Put');

let server: ServerProcess;

before(async () => {
  server = await startServer('tsetcd');
});

after(async () => {
  await server?.destroy();
});

/** `n` puts under `prefix`, `concurrency` at a time; resolves with the highest revision written. */
async function puts(channel: GrpcChannel, prefix: string, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const value = Buffer.alloc(32, 'v');
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await channel.unary(PUT, encodeFrame(PUT.request, { key: Buffer.from(`${prefix}${i % 100}`), value }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const last = await channel.unary(PUT, encodeFrame(PUT.request, { key: Buffer.from('marker'), value }));
  // PutResponse { header { ..., revision (field 3) } }: the marker's revision - 1 is the last put's.
  return headerRevision(last) - 1;
}

function headerRevision(putResponse: Buffer): number {
  const header = putResponse.subarray(2, 2 + putResponse[1]!);
  for (let at = 0; at < header.length; ) {
    const tag = header[at++]!;
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = header[at++]!;
      v += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) break;
    }
    if (tag === 0x18) return v;
  }
  throw new Error('no revision in the put response header');
}

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('10,000 watchers on one member all receive every event of 1,000 puts, in order, exactly once', async (t) => {
  const CONNECTIONS = 4;
  const STREAMS = 100;
  const PER_STREAM = 100;
  const PUTS = 1000;
  const sessions = await Promise.all(Array.from({ length: CONNECTIONS }, () => connectLean(server.clientUrl)));
  const channel = await GrpcChannel.connect(server.clientUrl);
  try {
    const streams = Array.from({ length: STREAMS }, (_, i) => LeanWatchStream.open(sessions[i % CONNECTIONS]!));
    const prefix = Buffer.from('scale/');
    const rangeEnd = Buffer.from('scale0'); // '/' + 1
    const ids = await Promise.all(streams.map((s) => s.create(PER_STREAM, prefix, rangeEnd)));
    assert.equal(ids.flat().length, STREAMS * PER_STREAM);
    const started = Date.now();
    const lastRevision = await puts(channel, 'scale/', PUTS, 32);
    const tallies = streams.flatMap((s) => [...s.tallies.values()]);
    const delivered = () => tallies.reduce((n, x) => n + x.count, 0);
    await until(() => delivered() === PUTS * tallies.length, 120_000, () => `${delivered()} of ${PUTS * tallies.length} events`);
    t.diagnostic(`${tallies.length} watchers × ${PUTS} events in ${Date.now() - started} ms (puts included)`);
    await new Promise((r) => setTimeout(r, 200)); // nothing more may come
    for (const x of tallies) {
      assert.equal(x.count, PUTS);
      assert.equal(x.disorder, 0, 'each event after the one before: none twice, none out of order');
      assert.equal(x.lastRevision, lastRevision);
    }
    assert.ok(streams.every((s) => s.error === undefined && s.canceled === 0));
    for (const s of streams) s.close();
  } finally {
    await channel.close();
    for (const s of sessions) s.destroy();
  }
});

test('a stream that stops reading falls behind without holding up writes or other watchers, then gets every event once, in order', async (t) => {
  const PUTS = 20_000;
  const slowSession = await connectLean(server.clientUrl, 65_535);
  const fastSession = await connectLean(server.clientUrl);
  const channel = await GrpcChannel.connect(server.clientUrl);
  try {
    const slow = LeanWatchStream.open(slowSession);
    const fast = LeanWatchStream.open(fastSession);
    const [slowIds, fastIds] = await Promise.all([
      slow.create(20, Buffer.from('slow/'), Buffer.from('slow0')),
      fast.create(1, Buffer.from('slow/'), Buffer.from('slow0')),
    ]);
    slow.pause();
    const fastTally = fast.tallies.get(fastIds[0]!)!;
    const writing = Date.now();
    const lastRevision = await puts(channel, 'slow/', PUTS, 64);
    const writeMs = Date.now() - writing;
    await until(() => fastTally.count === PUTS, 30_000, () => `fast watcher at ${fastTally.count}`);
    const slowTallies = slowIds.map((id) => slow.tallies.get(id)!);
    const before = slowTallies.reduce((n, x) => n + x.count, 0);
    t.diagnostic(`${PUTS} puts in ${writeMs} ms while the slow stream held ${before} of ${PUTS * slowIds.length} events`);
    assert.ok(before < PUTS * slowIds.length, 'the slow stream had not received everything while paused');
    slow.resume();
    await until(() => slowTallies.every((x) => x.count === PUTS), 60_000, () => slowTallies.map((x) => x.count).join(','));
    await new Promise((r) => setTimeout(r, 200));
    for (const x of [...slowTallies, fastTally]) {
      assert.equal(x.count, PUTS);
      assert.equal(x.disorder, 0);
      assert.equal(x.lastRevision, lastRevision);
    }
    slow.close();
    fast.close();
  } finally {
    await channel.close();
    slowSession.destroy();
    fastSession.destroy();
  }
});
