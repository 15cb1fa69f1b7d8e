// The benchmark's scenarios: what cluster each needs and how one repetition is measured on it.
// A measurement is the same for real etcd and tsetcd; run.ts starts the cluster and compares.
import { percentileMs, runBenchCli, type BenchCliResult } from './bench-cli.js';
import { runCheckPerf, CHECK_PERF_SHAPES, type CheckPerfLoad } from './check-perf.js';
import type { Cluster, ClusterOptions, ServerKind } from './cluster.js';
import { measureFailover, type FailoverOptions } from './failover.js';
import { measureWatchFanout, type WatchFanoutOptions } from './watch-fanout.js';
import { startWriteLoad } from './write-load.js';

export type ScenarioKind = 'check-perf' | 'failover' | 'bench-put' | 'bench-rate' | 'bench-range' | 'ws-put' | 'watch-fanout';
export const SCENARIO_KINDS: readonly ScenarioKind[] = ['check-perf', 'failover', 'bench-put', 'bench-rate', 'bench-range', 'ws-put', 'watch-fanout'];

export interface Metric {
  key: string;
  label: string;
  /** Which direction is good, for reading the tsetcd/etcd ratio. */
  better: 'higher' | 'lower';
  digits: number;
  /** A 0/1 outcome (check perf's PASS): the table shows how many passed instead of a median. */
  verdict?: boolean;
}

export interface Measurement {
  /** Metric key → values: one per repetition, or one per round where a repetition has several. */
  values: Record<string, number[]>;
  /** Writes the servers committed while measured (revisions; the CPU column's operations unless `ops` is set). */
  writes: number;
  /** The operations CPU is divided by when they are not the committed writes (bench-range: ranges served). */
  ops?: number;
  /** Server CPU seconds used while measured, all members together. */
  cpuSeconds: number;
  /** Largest peak RSS of any one server process. */
  peakRssBytes: number;
  /** Everything the measurement reported, kept in the raw JSON. */
  details: unknown;
  /** Every latency sample (microseconds, compressed base64 HdrHistogram), for the HTML report's percentile plot. */
  latencyHistogram?: string;
}

export interface Scenario {
  kind: ScenarioKind;
  title: string;
  members: number;
  metrics: readonly Metric[];
  /** The servers that can run it (undefined: both); the others show n/a. */
  servers?: readonly ServerKind[];
  /** What the cluster needs beyond the common settings. */
  cluster?: Pick<ClusterOptions, 'httpClientUrls'>;
  measure(cluster: Cluster): Promise<Measurement>;
}

export interface ScenarioSettings {
  load: CheckPerfLoad;
  /** When set, the check-perf scenarios run this process's own write loop for this long instead of etcdctl. */
  loadSeconds: number | undefined;
  failover: FailoverOptions;
  /** How long each `tsetcd bench` scenario runs its load. */
  benchSeconds: number;
  /** Seconds of puts before a write scenario is measured (see warmUp). */
  warmupSeconds: number;
  watch: WatchFanoutOptions;
}

/** etcdctl's write load test, or (with loadSeconds) the same load shape from our own etcd3 client loop. */
export function writeLoadScenario(members: number, settings: ScenarioSettings): Scenario {
  const { load, loadSeconds } = settings;
  const memberText = `${members} member${members === 1 ? '' : 's'}`;
  if (loadSeconds === undefined) {
    return {
      kind: 'check-perf',
      title: `etcdctl check perf --load=${load}, ${memberText}`,
      members,
      metrics: [
        { key: 'writesPerSecond', label: 'throughput (writes/s)', better: 'higher', digits: 0 },
        { key: 'slowestS', label: 'slowest request (s)', better: 'lower', digits: 3 },
        { key: 'pass', label: 'check perf PASS', better: 'higher', digits: 0, verdict: true },
      ],
      measure: async (cluster) => {
        await warmUp(cluster, settings);
        return measured(cluster, async () => {
          const summary = await runCheckPerf(cluster.clientUrls, load);
          return {
            values: { writesPerSecond: [summary.writesPerSecond], slowestS: [summary.slowestS], pass: [summary.pass ? 1 : 0] },
            details: summary,
          };
        });
      },
    };
  }
  const shape = CHECK_PERF_SHAPES[load];
  return {
    kind: 'check-perf',
    title: `own write loop ${loadSeconds} s (check perf ${load} shape), ${memberText}`,
    members,
    metrics: [
      { key: 'writesPerSecond', label: 'throughput (writes/s)', better: 'higher', digits: 0 },
      { key: 'p99Ms', label: 'p99 latency (ms)', better: 'lower', digits: 1 },
      { key: 'maxMs', label: 'slowest request (ms)', better: 'lower', digits: 1 },
    ],
    measure: (cluster) =>
      measured(cluster, async () => {
        const result = await startWriteLoad({
          endpoints: cluster.clientUrls,
          connections: 16,
          ratePerSecond: shape.writesPerSecond,
          concurrency: shape.clients,
          durationMs: loadSeconds * 1000,
          writeTimeoutMs: 10_000,
        }).finished;
        if (result.acknowledged === 0) throw new Error(`no write acknowledged: ${JSON.stringify(result.errors)}`);
        return {
          values: { writesPerSecond: [result.writesPerSecond], p99Ms: [result.latencyMs.p99], maxMs: [result.latencyMs.max] },
          details: result,
        };
      }),
  };
}

export function failoverScenario(members: number, settings: ScenarioSettings): Scenario {
  const { failover } = settings;
  return {
    kind: 'failover',
    title: `failover after kill -9 of the leader, ${members} members, ${failover.writesPerSecond} writes/s`,
    members,
    metrics: [
      { key: 'writeRecoveryS', label: 'kill → next write acknowledged (s)', better: 'lower', digits: 2 },
      { key: 'leaderVisibleS', label: 'kill → new leader visible (s)', better: 'lower', digits: 2 },
    ],
    measure: (cluster) =>
      measured(cluster, async () => {
        const rounds = await measureFailover(cluster, failover);
        return {
          values: { writeRecoveryS: rounds.map((r) => r.writeRecoveryS), leaderVisibleS: rounds.map((r) => r.leaderVisibleS) },
          details: rounds,
        };
      }),
  };
}

/**
 * The load every `tsetcd bench` scenario sends, the same command line to both servers: 1,000 clients
 * (at most one request in flight each) over 16 connections round-robin over all members, 256-byte
 * values, keys drawn at random from 100,000, the clients split over worker threads (auto: one per
 * core here without a rate; one thread at bench-rate's 2,000 writes/s).
 */
export const BENCH_SHAPE = { conns: 16, clients: 1000, valSize: 256, keySpaceSize: 100_000 } as const;
/** bench-rate's open-loop rate: latency at a load both servers can carry. */
export const BENCH_FIXED_RATE = 2000;

const memberText = (members: number) => `${members} member${members === 1 ? '' : 's'}`;

const latencyMetrics = (digits: number): Metric[] => [
  { key: 'p50Ms', label: 'p50 latency (ms)', better: 'lower', digits },
  { key: 'p99Ms', label: 'p99 latency (ms)', better: 'lower', digits },
  { key: 'p999Ms', label: 'p99.9 latency (ms)', better: 'lower', digits },
  { key: 'errors', label: 'failed requests', better: 'lower', digits: 0 },
];

function benchArgs(workload: 'put' | 'range', endpoints: readonly string[], seconds: number, extra: readonly string[] = [], keySpaceSize: number = BENCH_SHAPE.keySpaceSize): string[] {
  return [
    workload,
    `--endpoints=${endpoints.join(',')}`,
    `--conns=${BENCH_SHAPE.conns}`,
    `--clients=${BENCH_SHAPE.clients}`,
    '--threads=auto',
    `--duration=${seconds}s`,
    `--key-space-size=${keySpaceSize}`,
    ...(workload === 'put' ? [`--val-size=${BENCH_SHAPE.valSize}`] : []),
    ...extra,
  ];
}

/** A bench report as metric values: throughput, p50 / p99 / p99.9 and failed requests. */
function benchValues({ report, histogram }: BenchCliResult): Pick<Measurement, 'values' | 'details' | 'latencyHistogram'> {
  const lag = report.generator.startLagSecs;
  return {
    values: {
      opsPerSecond: [report.requestsPerSec],
      p50Ms: [percentileMs(report, 50)],
      p99Ms: [percentileMs(report, 99)],
      p999Ms: [percentileMs(report, 99.9)],
      errors: [report.errors],
      ...(lag === null ? {} : { startLagP99Ms: [lag.p99 * 1000] }),
    },
    details: report,
    latencyHistogram: histogram,
  };
}

/**
 * `tsetcd bench put` over gRPC against both servers: as fast as the clients go (bench-put), or
 * open loop at BENCH_FIXED_RATE writes/s (bench-rate; latency counted from when each write was due).
 */
export function benchPutScenario(kind: 'bench-put' | 'bench-rate', members: number, settings: ScenarioSettings): Scenario {
  const extra = [...(kind === 'bench-rate' ? [`--rate=${BENCH_FIXED_RATE}`] : []), warmupFlag(settings)];
  return {
    kind,
    title: `bench put gRPC${kind === 'bench-rate' ? ` at ${BENCH_FIXED_RATE.toLocaleString('en-US')} writes/s` : ''}, ${BENCH_SHAPE.clients} clients, ${memberText(members)}`,
    members,
    metrics: [
      { key: 'opsPerSecond', label: 'throughput (writes/s)', better: 'higher', digits: 0 },
      ...latencyMetrics(1),
      // Latency counts from when a write was due: how late the generator itself started them.
      ...(kind === 'bench-rate' ? [{ key: 'startLagP99Ms', label: 'generator start lag p99 (ms)', better: 'lower', digits: 1 } as const] : []),
    ],
    measure: (cluster) => measured(cluster, async () => benchValues(await runBenchCli(benchArgs('put', cluster.clientUrls, settings.benchSeconds, extra)))),
  };
}

/**
 * Write scenarios are measured after `settings.warmupSeconds` of puts, on every server alike: the
 * measurement is of a server that has been running, not of its first seconds. tsetcd's first
 * seconds are V8's: optimising compiles and a young generation still growing. At 1,000 writes/s
 * on 3 members its p99 was 1.3-1.5x etcd's after 3 s of warm-up and 1.09x after 10 s (etcd's
 * alike either way); after 3 s its per-second p99 stayed 58-108 ms for 5 s, then 22-55 ms.
 */
async function warmUp(cluster: Cluster, settings: ScenarioSettings): Promise<void> {
  await runBenchCli(benchArgs('put', cluster.clientUrls, settings.warmupSeconds, [`--rate=${BENCH_FIXED_RATE}`]));
}

/**
 * `tsetcd bench` runs warm up within the run: the same client goes on into the measured seconds
 * with its own code optimised. A fresh client started its operations 7-12 ms late at the median in
 * its first second (1 ms after), against either server, and that second alone could set the p99
 * of a 20 s run.
 */
const warmupFlag = (settings: ScenarioSettings) => `--warmup=${settings.warmupSeconds}s`;

/** Linearizable ranges (`tsetcd bench range --consistency=l`) over keys a put run wrote first. */
export function benchRangeScenario(members: number, settings: ScenarioSettings): Scenario {
  const filled = 1000;
  return {
    kind: 'bench-range',
    title: `bench range gRPC linearizable, ${BENCH_SHAPE.clients} clients, ${memberText(members)}`,
    members,
    metrics: [{ key: 'opsPerSecond', label: 'throughput (ranges/s)', better: 'higher', digits: 0 }, ...latencyMetrics(2)],
    measure: async (cluster) => {
      const endpoints = cluster.clientUrls.join(',');
      await runBenchCli(['put', `--endpoints=${endpoints}`, '--conns=4', '--clients=50', `--total=${filled}`, `--key-space-size=${filled}`, '--sequential-keys', `--val-size=${BENCH_SHAPE.valSize}`]);
      return measured(cluster, async () => {
        const result = await runBenchCli(benchArgs('range', cluster.clientUrls, settings.benchSeconds, ['--consistency=l'], filled));
        return { ...benchValues(result), ops: result.report.requests };
      });
    },
  };
}

/** `tsetcd bench put --protocol ws`: tsetcd's WebSocket API (etcd has none). */
export function wsPutScenario(members: number, settings: ScenarioSettings): Scenario {
  return {
    kind: 'ws-put',
    title: `bench put WebSocket, ${BENCH_SHAPE.clients} clients, ${memberText(members)}`,
    members,
    servers: ['tsetcd'],
    cluster: { httpClientUrls: true },
    metrics: [{ key: 'opsPerSecond', label: 'throughput (writes/s)', better: 'higher', digits: 0 }, ...latencyMetrics(1)],
    measure: (cluster) =>
      measured(cluster, async () => benchValues(await runBenchCli(benchArgs('put', cluster.httpClientUrls, settings.benchSeconds, ['--protocol=ws', warmupFlag(settings)])))),
  };
}

/** Watch fan-out (watch-fanout.ts) on one member: events/s delivered, put→event latency. */
export function watchFanoutScenario(settings: ScenarioSettings): Scenario {
  const o = settings.watch;
  return {
    kind: 'watch-fanout',
    title: `watch fan-out, ${o.watchers.toLocaleString('en-US')} watchers, ${o.puts.toLocaleString('en-US')} puts then ${o.rate} puts/s, 1 member`,
    members: 1,
    metrics: [
      { key: 'eventsPerSec', label: 'events delivered/s', better: 'higher', digits: 0 },
      { key: 'p50Ms', label: 'put→event p50 (ms)', better: 'lower', digits: 1 },
      { key: 'p99Ms', label: 'put→event p99 (ms)', better: 'lower', digits: 1 },
      { key: 'ok', label: 'every event once, in order', better: 'higher', digits: 0, verdict: true },
    ],
    measure: (cluster) =>
      measured(cluster, async () => {
        const r = await measureWatchFanout(cluster, o);
        const { latencyHistogram, ...details } = r;
        return {
          values: { eventsPerSec: [r.eventsPerSec], p50Ms: [r.latency.p50], p99Ms: [r.latency.p99], ok: [r.ok ? 1 : 0] },
          details,
          latencyHistogram,
        };
      }),
  };
}

/** Runs `body` and adds what the servers spent on it: CPU seconds, committed writes (revisions), peak RSS. */
async function measured(
  cluster: Cluster,
  body: () => Promise<Pick<Measurement, 'values' | 'details' | 'ops' | 'latencyHistogram'>>,
): Promise<Measurement> {
  const revisionBefore = await currentRevision(cluster);
  const cpuBefore = cluster.usage().cpuSeconds;
  const result = await body();
  const usage = cluster.usage();
  // Every committed Put or Delete adds one revision, on either server.
  const writes = (await currentRevision(cluster)) - revisionBefore;
  return { ...result, writes, cpuSeconds: usage.cpuSeconds - cpuBefore, peakRssBytes: usage.peakRssBytes };
}

async function currentRevision(cluster: Cluster): Promise<number> {
  const leader = await cluster.leader();
  // Generous: check perf ends by deleting every key it wrote (160,000 with three members), and
  // tsetcd's members answered nothing else for up to 1 s while applying that delete.
  return (await leader.status(STATUS_AFTER_LOAD_TIMEOUT_MS)).revision;
}

const STATUS_AFTER_LOAD_TIMEOUT_MS = 5000;
