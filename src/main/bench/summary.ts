// The text summary, laid out as etcd's tools/benchmark prints it (pkg/report), followed by the
// generator's own CPU use (and with --rate, how late it started operations), the workload's
// counts and the error distribution.

import { latencyStats, responseTimeBuckets } from './histogram.js';
import { startLagSecs, type RunResult } from './run-result.js';

const BAR = '∎';
const BAR_WIDTH = 40;

/** Go's %4.4f. */
const f4 = (n: number) => n.toFixed(4);

export function formatSummary(run: RunResult): string {
  const stats = latencyStats(run.histogram);
  let s = '\nSummary:\n';
  s += `  Total:\t${f4(run.totalSecs)} secs.\n`;
  s += `  Slowest:\t${f4(stats.slowestSecs)} secs.\n`;
  s += `  Fastest:\t${f4(stats.fastestSecs)} secs.\n`;
  s += `  Average:\t${f4(stats.averageSecs)} secs.\n`;
  s += `  Stddev:\t${f4(stats.stddevSecs)} secs.\n`;
  s += `  Requests/sec:\t${f4(run.requestsPerSec)}\n`;

  const buckets = responseTimeBuckets(run.histogram);
  if (buckets.length > 0) {
    const most = Math.max(...buckets.map((b) => b.count));
    s += '\nResponse time histogram:\n';
    for (const b of buckets) s += `  ${f4(b.upToSecs)} [${b.count}]\t|${BAR.repeat(Math.floor((b.count * BAR_WIDTH) / most))}\n`;
    s += '\nLatency distribution:\n';
    for (const p of stats.percentiles) if (p.secs > 0) s += `  ${p.percentile}% in ${f4(p.secs)} secs.\n`;
  }

  const g = run.generator;
  s += '\nGenerator:\n';
  s += `  CPU:\t${g.cpuPercentOfOneCore.toFixed(1)}% of one core (user ${g.userSecs.toFixed(2)} s, system ${g.systemSecs.toFixed(2)} s, ${g.threads} thread${g.threads === 1 ? '' : 's'})\n`;
  const lag = startLagSecs(run);
  if (lag !== undefined) s += `  Start lag:\t50% in ${f4(lag.p50)} secs, 99% in ${f4(lag.p99)} secs, slowest ${f4(lag.slowest)} secs (from due to sent)\n`;

  if (run.counts.size > 0) {
    s += '\nCounts:\n';
    for (const [name, n] of run.counts) s += `  ${name}:\t${n}\n`;
  }
  if (run.errors.size > 0) {
    s += '\nError distribution:\n';
    for (const [message, n] of run.errors) s += `  [${n}]\t${message}\n`;
  }
  return s;
}
