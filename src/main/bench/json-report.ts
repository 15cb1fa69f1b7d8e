// --json: the same figures as the text summary, plus the per-second series, as one JSON object.

import { latencyStats, responseTimeBuckets } from './histogram.js';
import { startLagSecs, type RunResult } from './run-result.js';

export interface JsonReport {
  readonly workload: string;
  readonly protocol: string;
  readonly endpoints: readonly string[];
  readonly options: {
    readonly conns: number;
    readonly clients: number;
    readonly threads: number;
    readonly total: number | null;
    readonly durationSecs: number | null;
    readonly warmupSecs: number;
    readonly rate: number;
  };
  readonly startTime: string;
  readonly totalSecs: number;
  /** Latency samples: requests that succeeded, or for watch workloads, events delivered. */
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSec: number;
  readonly latencySecs: {
    readonly fastest: number;
    readonly slowest: number;
    readonly average: number;
    readonly stddev: number;
    readonly percentiles: readonly { readonly percentile: number; readonly secs: number }[];
  };
  readonly histogram: readonly { readonly upToSecs: number; readonly count: number }[];
  readonly throughput: readonly { readonly second: number; readonly requests: number; readonly errors: number }[];
  readonly errorDistribution: Readonly<Record<string, number>>;
  readonly counts: Readonly<Record<string, number>>;
  readonly generator: {
    readonly cpuPercentOfOneCore: number;
    readonly userSecs: number;
    readonly systemSecs: number;
    readonly threads: number;
    /** With --rate: how late operations started after they were due; null without. */
    readonly startLagSecs: { readonly p50: number; readonly p99: number; readonly slowest: number } | null;
  };
}

export function jsonReport(run: RunResult): JsonReport {
  const o = run.options;
  const stats = latencyStats(run.histogram);
  return {
    workload: o.workload,
    protocol: o.protocol,
    endpoints: o.endpoints.map((e) => e.url),
    options: {
      conns: o.conns,
      clients: o.clients,
      threads: o.threads,
      total: o.stop.kind === 'total' ? o.stop.total : null,
      durationSecs: o.stop.kind === 'duration' ? o.stop.ms / 1000 : null,
      warmupSecs: o.warmupMs / 1000,
      rate: o.rate,
    },
    startTime: new Date(run.startEpochMs).toISOString(),
    totalSecs: run.totalSecs,
    requests: run.histogram.totalCount,
    errors: run.errorCount,
    requestsPerSec: run.requestsPerSec,
    latencySecs: {
      fastest: stats.fastestSecs,
      slowest: stats.slowestSecs,
      average: stats.averageSecs,
      stddev: stats.stddevSecs,
      percentiles: stats.percentiles,
    },
    histogram: responseTimeBuckets(run.histogram),
    throughput: run.seconds.map((s) => ({ second: s.second, requests: s.histogram.totalCount, errors: s.errors })),
    errorDistribution: Object.fromEntries(run.errors),
    counts: Object.fromEntries(run.counts),
    generator: { ...run.generator, startLagSecs: startLagSecs(run) ?? null },
  };
}
