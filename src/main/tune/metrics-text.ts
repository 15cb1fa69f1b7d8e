// Reading histograms out of Prometheus' text exposition format (what /metrics serves), and
// their quantiles as Prometheus' histogram_quantile estimates them.

export interface Histogram {
  labels: Record<string, string>;
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf. */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every series of histogram `name` in `text`, by its labels (le aside). */
export function parseHistograms(text: string, name: string): Histogram[] {
  const series = new Map<string, Histogram>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line.trim());
    if (m === null || !m[1]!.startsWith(name)) continue;
    const suffix = m[1]!.slice(name.length);
    if (suffix !== '_bucket' && suffix !== '_count' && suffix !== '_sum') continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    const le = labels.le;
    delete labels.le;
    const key = JSON.stringify(Object.entries(labels).sort());
    let h = series.get(key);
    if (h === undefined) series.set(key, (h = { labels, buckets: [], count: 0, sum: 0 }));
    if (suffix === '_bucket' && le !== undefined) h.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: value });
    else if (suffix === '_count') h.count = value;
    else if (suffix === '_sum') h.sum = value;
  }
  for (const h of series.values()) h.buckets.sort((a, b) => a.le - b.le);
  return [...series.values()];
}

/** `later` minus `earlier` (the same series scraped twice): what was observed in between. */
export function histogramDelta(later: Histogram, earlier: Histogram | undefined): Histogram {
  if (earlier === undefined) return later;
  return {
    labels: later.labels,
    buckets: later.buckets.map((b) => ({ le: b.le, count: b.count - (earlier.buckets.find((e) => e.le === b.le)?.count ?? 0) })),
    count: later.count - earlier.count,
    sum: later.sum - earlier.sum,
  };
}

/**
 * The q-quantile, interpolating linearly within the bucket it falls in (histogram_quantile);
 * in the +Inf bucket, the highest finite bound. NaN for an empty histogram.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  const total = h.buckets.length > 0 ? h.buckets[h.buckets.length - 1]!.count : 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerBound;
      const inBucket = b.count - lowerCount;
      return inBucket <= 0 ? b.le : lowerBound + ((b.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = b.le;
    lowerCount = b.count;
  }
  return lowerBound;
}
