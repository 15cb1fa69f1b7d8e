// The threads' results merged into one: histograms add, per-second intervals add second by
// second, error and named counts add. Every report (text, JSON, HdrHistogram log, HTML) is drawn
// from this.

import type { JsHistogram } from 'hdr-histogram-js';
import type { BenchOptions } from './flags.js';
import { decodeHistogram, latencyStats, newHistogram, percentileSecs } from './histogram.js';
import type { ThreadsOutcome } from './threads.js';

export interface SecondOfRun {
  readonly second: number;
  /** Latency samples completed in this second. */
  readonly histogram: JsHistogram;
  readonly errors: number;
}

export interface RunResult {
  readonly options: BenchOptions;
  readonly startEpochMs: number;
  /** From the start to the last sample or error. */
  readonly totalSecs: number;
  readonly histogram: JsHistogram;
  /** How late the recorded operations started after they were due (µs; meaningful with --rate). */
  readonly startLag: JsHistogram;
  /** Samples per second over totalSecs: requests, or for watch workloads, events delivered. */
  readonly requestsPerSec: number;
  /** Every second from 0 to the last one, empty ones included. */
  readonly seconds: readonly SecondOfRun[];
  readonly errors: ReadonlyMap<string, number>;
  readonly errorCount: number;
  readonly counts: ReadonlyMap<string, number>;
  readonly generator: { readonly cpuPercentOfOneCore: number; readonly userSecs: number; readonly systemSecs: number; readonly threads: number };
}

export function mergeResults(options: BenchOptions, outcome: ThreadsOutcome): RunResult {
  const histogram = newHistogram();
  const startLag = newHistogram();
  const bySecond = new Map<number, { histogram: JsHistogram; errors: number }>();
  const errors = new Map<string, number>();
  const counts = new Map<string, number>();
  let lastAt = outcome.startEpochMs;
  for (const result of outcome.results) {
    for (const interval of result.intervals) {
      let second = bySecond.get(interval.second);
      if (second === undefined) bySecond.set(interval.second, (second = { histogram: newHistogram(), errors: 0 }));
      const decoded = decodeHistogram(interval.histogram);
      second.histogram.add(decoded);
      histogram.add(decoded);
      second.errors += interval.errors;
    }
    startLag.add(decodeHistogram(result.startLag));
    addAll(errors, result.errors);
    addAll(counts, result.counts);
    lastAt = Math.max(lastAt, result.lastAtEpochMs);
  }
  const lastSecond = Math.max(-1, ...bySecond.keys());
  const seconds = Array.from({ length: lastSecond + 1 }, (_, second) => ({ second, ...(bySecond.get(second) ?? { histogram: newHistogram(), errors: 0 }) }));
  const cpuSecs = (outcome.cpu.user + outcome.cpu.system) / 1e6;
  const totalSecs = (lastAt - outcome.startEpochMs) / 1000;
  return {
    options,
    startEpochMs: outcome.startEpochMs,
    totalSecs,
    histogram,
    startLag,
    requestsPerSec: totalSecs > 0 ? histogram.totalCount / totalSecs : 0,
    seconds,
    errors,
    errorCount: [...errors.values()].reduce((a, b) => a + b, 0),
    counts,
    generator: {
      cpuPercentOfOneCore: outcome.cpuWallMs > 0 ? (100 * cpuSecs * 1000) / outcome.cpuWallMs : 0,
      userSecs: outcome.cpu.user / 1e6,
      systemSecs: outcome.cpu.system / 1e6,
      threads: outcome.results.length,
    },
  };
}

/**
 * How late the generator started operations, with --rate (without it an operation is due when a
 * client is free, so there is no lag to report); undefined otherwise.
 */
export function startLagSecs(run: RunResult): { p50: number; p99: number; slowest: number } | undefined {
  if (run.options.rate === 0 || run.startLag.totalCount === 0) return undefined;
  const stats = latencyStats(run.startLag);
  return { p50: percentileSecs(stats, 50), p99: percentileSecs(stats, 99), slowest: stats.slowestSecs };
}

function addAll(into: Map<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(from)) into.set(key, (into.get(key) ?? 0) + n);
}
