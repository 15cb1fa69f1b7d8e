// Latency histograms: hdr-histogram-js with microsecond values, their encoding (to move them
// between threads and into HdrHistogram logs), and the figures the reports print.

import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, JsHistogram, type Histogram } from 'hdr-histogram-js';

/** Values are microseconds; 3 significant digits; grows as larger values come in. */
export function newHistogram(): JsHistogram {
  return asJs(build({ bitBucketSize: 64, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 2, numberOfSignificantValueDigits: 3 }));
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(base64: string): JsHistogram {
  return asJs(decodeFromCompressedBase64(base64, 64));
}

// The JavaScript implementation (not WebAssembly) is always used; its counts array is what
// responseTimeBuckets walks.
function asJs(h: Histogram): JsHistogram {
  if (!(h instanceof JsHistogram)) throw new Error('expected a JavaScript HdrHistogram');
  return h;
}

const REPORTED_PERCENTILES = [10, 25, 50, 75, 90, 95, 99, 99.9, 99.99] as const;

export interface LatencyStats {
  readonly count: number;
  readonly fastestSecs: number;
  readonly slowestSecs: number;
  readonly averageSecs: number;
  readonly stddevSecs: number;
  readonly percentiles: readonly { readonly percentile: number; readonly secs: number }[];
}

const US_PER_SEC = 1e6;

/** Percentile `p` of a latency list (LatencyStats', or a --json report's), in seconds; NaN if not listed. */
export function percentileSecs(stats: Pick<LatencyStats, 'percentiles'>, p: number): number {
  return stats.percentiles.find((x) => x.percentile === p)?.secs ?? NaN;
}

export function latencyStats(h: JsHistogram): LatencyStats {
  const count = h.totalCount;
  return {
    count,
    fastestSecs: count === 0 ? 0 : h.minNonZeroValue / US_PER_SEC,
    slowestSecs: count === 0 ? 0 : h.maxValue / US_PER_SEC,
    averageSecs: count === 0 ? 0 : h.mean / US_PER_SEC,
    stddevSecs: count === 0 ? 0 : h.stdDeviation / US_PER_SEC,
    percentiles: REPORTED_PERCENTILES.map((percentile) => ({ percentile, secs: count === 0 ? 0 : h.getValueAtPercentile(percentile) / US_PER_SEC })),
  };
}

export interface Bucket {
  /** Values up to this (and above the previous bucket's bound) are counted here. */
  readonly upToSecs: number;
  readonly count: number;
}

/** etcd's "Response time histogram": 11 bounds evenly spaced from the fastest to the slowest. */
export function responseTimeBuckets(h: JsHistogram): Bucket[] {
  if (h.totalCount === 0) return [];
  const fastest = h.minNonZeroValue;
  const step = (h.maxValue - fastest) / 10;
  const bounds = Array.from({ length: 11 }, (_, i) => (i === 10 ? h.maxValue : fastest + step * i));
  const counts = new Array<number>(11).fill(0);
  let b = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const n = h.getCountAtIndex(i);
    if (n === 0) continue;
    const value = h.valueFromIndex(i);
    while (b < 10 && value > bounds[b]!) b++;
    counts[b]! += n;
  }
  return bounds.map((bound, i) => ({ upToSecs: bound / US_PER_SEC, count: counts[i]! }));
}

/**
 * Points of the latency-by-percentile curve, as HdrHistogram's plots draw it: percentiles spaced
 * evenly on a log scale of 1/(1 - p), up to where the recorded count still resolves them.
 */
export function percentileCurve(h: JsHistogram, pointsPerDecade = 20): { percentile: number; secs: number }[] {
  if (h.totalCount === 0) return [];
  const decades = Math.max(1, Math.log10(h.totalCount));
  const points = [];
  for (let i = 0; i <= Math.round(decades * pointsPerDecade); i++) {
    const percentile = 100 * (1 - 10 ** (-i / pointsPerDecade));
    points.push({ percentile, secs: h.getValueAtPercentile(percentile) / US_PER_SEC });
  }
  return points;
}
