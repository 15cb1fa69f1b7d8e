// The benchmark's scenarios: what cluster each needs and how one repetition is measured on it.
// A measurement is the same for real etcd and tsetcd; run.ts starts the cluster and compares.
import { runCheckPerf, CHECK_PERF_SHAPES, type CheckPerfLoad } from './check-perf.js';
import type { Cluster } from './cluster.js';
import { measureFailover, type FailoverOptions } from './failover.js';
import { startWriteLoad } from './write-load.js';

export type ScenarioKind = 'check-perf' | 'failover';
export const SCENARIO_KINDS: readonly ScenarioKind[] = ['check-perf', 'failover'];

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
  /** Writes the servers committed while measured (for CPU per write). */
  writes: number;
  /** Server CPU seconds used while measured, all members together. */
  cpuSeconds: number;
  /** Largest peak RSS of any one server process. */
  peakRssBytes: number;
  /** Everything the measurement reported, kept in the raw JSON. */
  details: unknown;
}

export interface Scenario {
  kind: ScenarioKind;
  title: string;
  members: number;
  metrics: readonly Metric[];
  measure(cluster: Cluster): Promise<Measurement>;
}

export interface ScenarioSettings {
  load: CheckPerfLoad;
  /** When set, the check-perf scenarios run this process's own write loop for this long instead of etcdctl. */
  loadSeconds: number | undefined;
  failover: FailoverOptions;
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
      measure: (cluster) =>
        measured(cluster, async () => {
          const summary = await runCheckPerf(cluster.clientUrls, load);
          return {
            values: { writesPerSecond: [summary.writesPerSecond], slowestS: [summary.slowestS], pass: [summary.pass ? 1 : 0] },
            details: summary,
          };
        }),
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

/** Runs `body` and adds what the servers spent on it: CPU seconds, committed writes (revisions), peak RSS. */
async function measured(
  cluster: Cluster,
  body: () => Promise<Pick<Measurement, 'values' | 'details'>>,
): Promise<Measurement> {
  const revisionBefore = await currentRevision(cluster);
  const cpuBefore = cluster.usage().cpuSeconds;
  const { values, details } = await body();
  const usage = cluster.usage();
  // Every committed Put or Delete adds one revision, on either server.
  const writes = (await currentRevision(cluster)) - revisionBefore;
  return { values, details, writes, cpuSeconds: usage.cpuSeconds - cpuBefore, peakRssBytes: usage.peakRssBytes };
}

async function currentRevision(cluster: Cluster): Promise<number> {
  const leader = await cluster.leader();
  return (await leader.status()).revision;
}
