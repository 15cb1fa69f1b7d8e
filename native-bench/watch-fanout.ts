// Watch fan-out: many watchers on one prefix of a one-member cluster, tsetcd and real etcd in the
// same run, same load. Two phases per server:
//   throughput  puts as fast as `--concurrency` puts in flight allow; events/s delivered (every
//               watcher gets every put) from the first put to the last event, and server CPU.
//   latency     puts at a fixed `--rate`; put→event latency of every event delivered (each put's
//               value starts with its send time), p50 / p99 / max.
// Watchers are spread over `--streams` watch streams on `--connections` HTTP/2 connections; the
// client scans responses in place (test/watch/lean-watch.ts) and checks every watcher got every
// event once, in order.
//
//   npx tsc -p . && node --import tsx native-bench/watch-fanout.ts [--watchers=10000] [--streams=100]
//     [--connections=4] [--puts=2000] [--concurrency=16] [--rate=20] [--latency-seconds=5] [--servers=etcd,tsetcd]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { grpcMethod, GrpcChannel } from '../src/main/api/grpc/client.js';
import { KVService } from '../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../src/main/api/grpc/framing.js';
import { latencyStats, newHistogram } from '../src/main/bench/histogram.js';
import { connectLean, LeanWatchStream, type WatcherTally } from '../test/watch/lean-watch.js';
import { Cluster, type ServerKind } from './cluster.js';

const PUT = grpcMethod(KVService, 'Put');

const { values: flags } = parseArgs({
  options: {
    watchers: { type: 'string', default: '10000' },
    streams: { type: 'string', default: '100' },
    connections: { type: 'string', default: '4' },
    puts: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '20' },
    'latency-seconds': { type: 'string', default: '5' },
    servers: { type: 'string', default: 'etcd,tsetcd' },
  },
});
const WATCHERS = Number(flags.watchers);
const STREAMS = Number(flags.streams);
const CONNECTIONS = Number(flags.connections);
const PUTS = Number(flags.puts);
const CONCURRENCY = Number(flags.concurrency);
const RATE = Number(flags.rate);
const LATENCY_SECONDS = Number(flags['latency-seconds']);
const SERVERS = flags.servers.split(',') as ServerKind[];

const PREFIX = Buffer.from('fanout/');
const PREFIX_END = Buffer.from('fanout0');

interface Result {
  kind: ServerKind;
  eventsPerSec: number;
  throughputSecs: number;
  cpuSecsPerMillionEvents: number;
  latency: { p50: number; p99: number; max: number; count: number };
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stampedValue(): Buffer {
  const v = Buffer.alloc(64, 'x');
  v.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
  return v;
}

async function waitDelivered(tallies: WatcherTally[], expected: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let n = 0;
    for (const t of tallies) n += t.count;
    if (n >= expected) return performance.now();
    if (Date.now() > deadline) throw new Error(`only ${n} of ${expected} events within ${timeoutMs} ms`);
    await sleep(5);
  }
}

async function run(kind: ServerKind): Promise<Result> {
  const cluster = await Cluster.start({ kind, size: 1 });
  const url = cluster.clientUrls[0]!;
  const sessions = await Promise.all(Array.from({ length: CONNECTIONS }, () => connectLean(url)));
  const channel = await GrpcChannel.connect(url);
  const histogram = newHistogram();
  let measuring = false;
  const onLatency = (ms: number) => {
    if (measuring) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  };
  try {
    const streams = Array.from({ length: STREAMS }, (_, i) => LeanWatchStream.open(sessions[i % CONNECTIONS]!, { onLatency }));
    await Promise.all(streams.map((s, i) => s.create(Math.floor(WATCHERS / STREAMS) + (i < WATCHERS % STREAMS ? 1 : 0), PREFIX, PREFIX_END)));
    const tallies = streams.flatMap((s) => [...s.tallies.values()]);
    let sent = 0;
    const put = (i: number) => channel.unary(PUT, encodeFrame(PUT.request, { key: Buffer.from(`fanout/${i % 1000}`), value: stampedValue() }));

    // Warm-up: connections, JIT, workers.
    for (let i = 0; i < 20; i++) await put(sent++);
    await waitDelivered(tallies, sent * tallies.length, 60_000);

    // Throughput.
    const cpuBefore = cluster.usage().cpuSeconds;
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < PUTS) {
          next++;
          await put(sent++);
        }
      }),
    );
    const end = await waitDelivered(tallies, sent * tallies.length, 600_000);
    const cpu = cluster.usage().cpuSeconds - cpuBefore;
    const throughputSecs = (end - start) / 1000;
    const events = PUTS * tallies.length;

    // Latency at a fixed rate.
    measuring = true;
    const total = Math.round(RATE * LATENCY_SECONDS);
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      void put(sent++);
    }
    await waitDelivered(tallies, sent * tallies.length, 600_000);
    measuring = false;

    await sleep(200);
    const ok = tallies.every((t) => t.count === sent && t.disorder === 0) && streams.every((s) => s.error === undefined);
    const stats = latencyStats(histogram);
    const at = (p: number) => (stats.percentiles.find((x) => x.percentile === p)?.secs ?? 0) * 1000;
    for (const s of streams) s.close();
    return {
      kind,
      eventsPerSec: events / throughputSecs,
      throughputSecs,
      cpuSecsPerMillionEvents: (cpu / events) * 1e6,
      latency: { p50: at(50), p99: at(99), max: stats.slowestSecs * 1000, count: stats.count },
      ok,
    };
  } finally {
    await channel.close();
    for (const s of sessions) s.destroy();
    await cluster.stop();
  }
}

const results: Result[] = [];
for (const kind of SERVERS) {
  console.error(`${kind}: ${WATCHERS} watchers on ${STREAMS} streams, ${PUTS} puts (${CONCURRENCY} in flight), then ${RATE} puts/s for ${LATENCY_SECONDS} s`);
  results.push(await run(kind));
}
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(`\nwatch fan-out: ${WATCHERS} watchers, ${STREAMS} streams, ${CONNECTIONS} connections`);
console.log('| server | events/s delivered | time for all events (s) | server CPU s per 1M events | put→event p50 ms | p99 ms | max ms | every event once, in order |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.kind} | ${fmt(r.eventsPerSec)} | ${fmt(r.throughputSecs, 2)} | ${fmt(r.cpuSecsPerMillionEvents, 2)} | ${fmt(r.latency.p50, 1)} | ${fmt(r.latency.p99, 1)} | ${fmt(r.latency.max, 1)} | ${r.ok ? 'yes' : 'NO'} |`,
  );
}
