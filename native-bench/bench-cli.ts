// `tsetcd bench` (src/main/bench) as a child process of the harness: the same command line against
// real etcd and tsetcd (both speak gRPC; tsetcd also WebSocket), its --json report, and its
// latency histogram read back from the --hdr-log it writes, for the HTML report's percentile plot.
// A process of its own, so the load generator's CPU is not the harness's and not the servers'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HistogramLogReader, JsHistogram } from 'hdr-histogram-js';
import { encodeHistogram, newHistogram, percentileSecs } from '../src/main/bench/histogram.js';
import type { JsonReport } from '../src/main/bench/json-report.js';
import { runChild } from './child.js';
import { onCleanup } from './cleanup.js';
import { TSETCD_BIN } from './cluster.js';

export interface BenchCliResult {
  report: JsonReport;
  /** Every latency sample of the run (microseconds), compressed base64 (src/main/bench/histogram.ts). */
  histogram: string;
}

/** Latency percentile `p` of a bench report, in milliseconds (NaN if the report has none). */
export function percentileMs(report: JsonReport, p: number): number {
  return percentileSecs(report.latencySecs, p) * 1000;
}

/**
 * Runs `tsetcd bench <args> --json` to the end. Resolves with its report even when some operations
 * failed (exit code 1; the report counts them); rejects when it gave no report or nothing succeeded.
 */
export async function runBenchCli(args: readonly string[], timeoutMs = 600_000): Promise<BenchCliResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-bench-cli-'));
  const unregisterDir = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hdrLog = path.join(dir, 'latency.hlog');
  try {
    const run = await runChild(process.execPath, [TSETCD_BIN, 'bench', ...args, '--json', `--hdr-log=${hdrLog}`], timeoutMs);
    const command = `tsetcd bench ${args.join(' ')}`;
    let report: JsonReport;
    try {
      report = JSON.parse(run.stdout) as JsonReport;
    } catch {
      throw new Error(`${command} ${run.ending} without a report: ${run.stderrTail}`);
    }
    if (report.requests === 0) throw new Error(`${command}: nothing succeeded: ${JSON.stringify(report.errorDistribution)}`);
    return { report, histogram: readHdrLog(fs.readFileSync(hdrLog, 'utf8')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    unregisterDir();
  }
}

/** The sum of every interval histogram in an HdrHistogram log, encoded. */
function readHdrLog(text: string): string {
  const reader = new HistogramLogReader(text, 64, false);
  const total = newHistogram();
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    if (!(h instanceof JsHistogram)) throw new Error('expected a JavaScript HdrHistogram from the log reader');
    total.add(h);
  }
  return encodeHistogram(total);
}
