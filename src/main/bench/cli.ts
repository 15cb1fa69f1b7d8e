// `tsetcd bench <workload> [flags]`: parse, run the load (on this thread or worker threads),
// print the summary (or JSON), write the optional HdrHistogram log and HTML report.

import { writeFile } from 'node:fs/promises';
import { helpText, parseBenchArgs, UsageError, type BenchOptions } from './flags.js';
import { hdrLog } from './hdr-log.js';
import { jsonReport } from './json-report.js';
import { planThreads } from './plan.js';
import { showProgress } from './progress.js';
import { htmlReport } from './report-html.js';
import { mergeResults } from './run-result.js';
import { formatSummary } from './summary.js';
import { runThreads } from './threads.js';
import { TransportUnavailableError, transportFor } from './transport.js';

/** Where the bench writes; tests pass their own. */
export interface BenchIO {
  readonly stdout: { write(text: string): unknown };
  /** The progress bar is drawn only when this is a terminal. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

const PROCESS_IO: BenchIO = { stdout: process.stdout, stderr: process.stderr };

/**
 * Runs `tsetcd bench` with `argv` (everything after `bench`). Returns the exit code: 0 when every
 * operation succeeded, 1 when some failed or the run could not be done, 2 for usage errors.
 */
export async function runBench(argv: string[], io: BenchIO = PROCESS_IO): Promise<number> {
  let options: BenchOptions;
  try {
    const parsed = parseBenchArgs(argv);
    if (parsed === 'help') {
      io.stdout.write(helpText());
      return 0;
    }
    options = parsed;
    transportFor(options.protocol);
  } catch (e) {
    if (e instanceof UsageError || e instanceof TransportUnavailableError) {
      io.stderr.write(`tsetcd bench: ${e.message}\nSee 'tsetcd bench --help'.\n`);
      return 2;
    }
    throw e;
  }
  const commandLine = ['tsetcd', 'bench', ...argv].join(' ');

  // Ctrl-C ends the load early and still reports; a second one exits at once.
  const interrupt = new AbortController();
  const onSigint = () => (interrupt.signal.aborted ? process.exit(130) : interrupt.abort());
  process.on('SIGINT', onSigint);
  let outcome;
  try {
    outcome = await runThreads(planThreads(options), {
      interrupt: interrupt.signal,
      onStart: (progress, startEpochMs) => (io.stderr.isTTY === true ? showProgress(io.stderr, progress, options.stop, startEpochMs) : () => {}),
    });
  } catch (e) {
    io.stderr.write(`tsetcd bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }

  const run = mergeResults(options, outcome);
  io.stdout.write(options.json ? `${JSON.stringify(jsonReport(run), null, 2)}\n` : formatSummary(run));
  try {
    if (options.hdrLog !== undefined) await writeFile(options.hdrLog, hdrLog(run, commandLine));
    if (options.report !== undefined) await writeFile(options.report, htmlReport(run, commandLine));
  } catch (e) {
    io.stderr.write(`tsetcd bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return run.errorCount > 0 ? 1 : 0;
}
