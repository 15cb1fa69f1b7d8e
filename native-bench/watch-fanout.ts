// Watch fan-out: many watchers on one prefix of a one-member cluster, the same load on tsetcd and
// real etcd. Two phases per server:
//   throughput  puts as fast as `concurrency` puts in flight allow; events/s delivered (every
//               watcher gets every put) from the first put to the last event, and server CPU.
//   latency     puts at a fixed `rate`; put→event latency of every event delivered (each put's
//               value starts with its send time), p50 / p99 / max.
// Watchers are spread over `streams` watch streams on `connections` HTTP/2 connections; the
// client scans responses in place (test/watch/lean-watch.ts) and checks every watcher got every
// event once, in order.
//
// measureWatchFanout() is run.ts's watch-fanout scenario. Run directly, this file is a standalone
// version printing its own table (the same measurement):
//
//   npx tsc -p . && node --import tsx native-bench/watch-fanout.ts [--watchers=10000] [--streams=100]
//     [--connections=4] [--puts=2000] [--concurrency=16] [--rate=20] [--latency-seconds=5] [--servers=etcd,tsetcd]
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { grpcMethod, GrpcChannel } from '../src/main/api/grpc/client.js';
import { KVService } from '../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../src/main/api/grpc/framing.js';
import { encodeHistogram, latencyStats, newHistogram, percentileSecs } from '../src/main/bench/histogram.js';
import { connectLean, LeanWatchStream, type WatcherTally } from '../test/watch/lean-watch.js';
import { Cluster, SERVER_KINDS, type ServerKind } from './cluster.js';

const PUT = grpcMethod(KVService, 'Put');

export interface WatchFanoutOptions {
  watchers: number;
  streams: number;
  connections: number;
  /** Puts of the throughput phase. */
  puts: number;
  /** Puts in flight in the throughput phase. */
  concurrency: number;
  /** Puts per second of the latency phase. */
  rate: number;
  latencySeconds: number;
}

export const DEFAULT_WATCH_FANOUT: WatchFanoutOptions = {
  watchers: 10_000,
  streams: 100,
  connections: 4,
  puts: 2000,
  concurrency: 16,
  rate: 20,
  latencySeconds: 5,
};

const PREFIX = Buffer.from('fanout/');
const PREFIX_END = Buffer.from('fanout0');

export interface WatchFanoutResult {
  eventsPerSec: number;
  throughputSecs: number;
  /** Server CPU of the throughput phase per million events delivered. */
  cpuSecsPerMillionEvents: number;
  latency: { p50: number; p99: number; max: number; count: number };
  /** Every put→event latency of the latency phase (microseconds), compressed base64. */
  latencyHistogram: string;
  /** Every watcher got every event once, in order, and no stream failed. */
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

/** Both phases on the first member of `cluster` (which should have one member). */
export async function measureWatchFanout(cluster: Cluster, o: WatchFanoutOptions): Promise<WatchFanoutResult> {
  const url = cluster.clientUrls[0]!;
  const sessions = await Promise.all(Array.from({ length: o.connections }, () => connectLean(url)));
  const channel = await GrpcChannel.connect(url);
  const histogram = newHistogram();
  let measuring = false;
  const onLatency = (ms: number) => {
    if (measuring) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  };
  try {
    const streams = Array.from({ length: o.streams }, (_, i) => LeanWatchStream.open(sessions[i % o.connections]!, { onLatency }));
    await Promise.all(streams.map((s, i) => s.create(Math.floor(o.watchers / o.streams) + (i < o.watchers % o.streams ? 1 : 0), PREFIX, PREFIX_END)));
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
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.puts) {
          next++;
          await put(sent++);
        }
      }),
    );
    const end = await waitDelivered(tallies, sent * tallies.length, 600_000);
    const cpu = cluster.usage().cpuSeconds - cpuBefore;
    const throughputSecs = (end - start) / 1000;
    const events = o.puts * tallies.length;

    // Latency at a fixed rate.
    measuring = true;
    const total = Math.round(o.rate * o.latencySeconds);
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      void put(sent++);
    }
    await waitDelivered(tallies, sent * tallies.length, 600_000);
    measuring = false;

    await sleep(200);
    const ok = tallies.every((t) => t.count === sent && t.disorder === 0) && streams.every((s) => s.error === undefined);
    const stats = latencyStats(histogram);
    const at = (p: number) => percentileSecs(stats, p) * 1000;
    for (const s of streams) s.close();
    return {
      eventsPerSec: events / throughputSecs,
      throughputSecs,
      cpuSecsPerMillionEvents: (cpu / events) * 1e6,
      latency: { p50: at(50), p99: at(99), max: stats.slowestSecs * 1000, count: stats.count },
      latencyHistogram: encodeHistogram(histogram),
      ok,
    };
  } finally {
    await channel.close();
    for (const s of sessions) s.destroy();
  }
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      watchers: { type: 'string' },
      streams: { type: 'string' },
      connections: { type: 'string' },
      puts: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      'latency-seconds': { type: 'string' },
      servers: { type: 'string', default: SERVER_KINDS.join(',') },
    },
  });
  const d = DEFAULT_WATCH_FANOUT;
  const num = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text));
  const o: WatchFanoutOptions = {
    watchers: num(flags.watchers, d.watchers),
    streams: num(flags.streams, d.streams),
    connections: num(flags.connections, d.connections),
    puts: num(flags.puts, d.puts),
    concurrency: num(flags.concurrency, d.concurrency),
    rate: num(flags.rate, d.rate),
    latencySeconds: num(flags['latency-seconds'], d.latencySeconds),
  };
  const results: (WatchFanoutResult & { kind: ServerKind })[] = [];
  for (const kind of flags.servers.split(',') as ServerKind[]) {
    console.error(`${kind}: ${o.watchers} watchers on ${o.streams} streams, ${o.puts} puts (${o.concurrency} in flight), then ${o.rate} puts/s for ${o.latencySeconds} s`);
    const cluster = await Cluster.start({ kind, size: 1 });
    try {
      results.push({ kind, ...(await measureWatchFanout(cluster, o)) });
    } finally {
      await cluster.stop();
    }
  }
  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(`\nwatch fan-out: ${o.watchers} watchers, ${o.streams} streams, ${o.connections} connections`);
  console.log('| server | events/s delivered | time for all events (s) | server CPU s per 1M events | put→event p50 ms | p99 ms | max ms | every event once, in order |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.kind} | ${fmt(r.eventsPerSec)} | ${fmt(r.throughputSecs, 2)} | ${fmt(r.cpuSecsPerMillionEvents, 2)} | ${fmt(r.latency.p50, 1)} | ${fmt(r.latency.p99, 1)} | ${fmt(r.latency.max, 1)} | ${r.ok ? 'yes' : 'NO'} |`,
    );
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
