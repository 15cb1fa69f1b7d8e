// etcd's own write load test, `etcdctl check perf --load=<s|m|l|xl>` (60 s, fixed by etcdctl),
// against a set of client URLs, and the parse of its summary. etcdctl draws a progress bar on
// stdout with carriage returns, so only the summary lines after it are read.
import { runChild } from './child.js';

export type CheckPerfLoad = 's' | 'm' | 'l' | 'xl';
export const CHECK_PERF_LOADS: readonly CheckPerfLoad[] = ['s', 'm', 'l', 'xl'];

/** What each load does (etcdctl/ctlv3/command/check.go): the write rate it allows and expects, and its clients. */
export const CHECK_PERF_SHAPES: Record<CheckPerfLoad, { writesPerSecond: number; clients: number }> = {
  s: { writesPerSecond: 150, clients: 50 },
  m: { writesPerSecond: 1000, clients: 200 },
  l: { writesPerSecond: 8000, clients: 500 },
  xl: { writesPerSecond: 15000, clients: 1000 },
};

const ETCDCTL_BIN = '/usr/bin/etcdctl';

export interface CheckPerfSummary {
  writesPerSecond: number;
  slowestS: number;
  stddevS: number;
  /** etcdctl's verdict: throughput ≥ 90 % of the load's rate, slowest ≤ 0.5 s, stddev ≤ 0.1 s, no errors. */
  pass: boolean;
  /** "FAIL: ERROR(...) -> N" lines, when requests failed. */
  errors: string[];
}

/** Parses the summary etcdctl prints after the progress bar; throws if there is none. */
export function parseCheckPerf(stdout: string): CheckPerfSummary {
  const lines = stdout.split(/\r?\n|\r/).map((l) => l.trim());
  const number = (pattern: RegExp): number | undefined => {
    for (const line of lines) {
      const m = pattern.exec(line);
      if (m !== null) return Number(m[1]);
    }
    return undefined;
  };
  // Each figure has a PASS and a FAIL wording (check.go).
  const writesPerSecond = number(/^(?:PASS: Throughput is|FAIL: Throughput too low:) (\d+) writes\/s$/);
  const slowestS = number(/^(?:PASS: Slowest request took|Slowest request took too long:) ([\d.]+)s$/);
  const stddevS = number(/^(?:PASS: Stddev is|Stddev too high:) ([\d.]+)s$/);
  const verdict = [...lines].reverse().find((l) => l === 'PASS' || l === 'FAIL');
  if (writesPerSecond === undefined || slowestS === undefined || stddevS === undefined || verdict === undefined) {
    throw new Error(`no check perf summary in etcdctl's output: ${lines.filter((l) => l !== '').slice(-3).join(' | ')}`);
  }
  return { writesPerSecond, slowestS, stddevS, pass: verdict === 'PASS', errors: lines.filter((l) => l.startsWith('FAIL: ERROR(')) };
}

/** Runs check perf to the end (about 60 s plus setup) and returns its summary. */
export async function runCheckPerf(endpoints: readonly string[], load: CheckPerfLoad, timeoutMs = 180_000): Promise<CheckPerfSummary> {
  const args = [`--endpoints=${endpoints.join(',')}`, 'check', 'perf', `--load=${load}`];
  const run = await runChild(ETCDCTL_BIN, args, timeoutMs, { ...process.env, ETCDCTL_API: '3' });
  try {
    return parseCheckPerf(run.stdout);
  } catch (e) {
    throw new Error(`etcdctl ${run.ending}: ${run.stderrTail || (e as Error).message}`);
  }
}
