// --hdr-log: the run's per-second latency histograms in the HdrHistogram log format (v1.3), as
// HistogramLogWriter writes it; HistogramLogReader (or HdrHistogram's Java tools) reads it back.
// Values are microseconds; the Interval_Max column is in milliseconds.

import { HistogramLogWriter } from 'hdr-histogram-js';
import type { RunResult } from './run-result.js';

const US_PER_MS = 1000;

export function hdrLog(run: RunResult, commandLine: string): string {
  let text = '';
  const writer = new HistogramLogWriter((s) => (text += s));
  writer.outputComment(`[Logged with ${commandLine}]`);
  writer.outputLogFormatVersion();
  writer.outputComment('[Latency values in microseconds; Interval_Max in milliseconds]');
  writer.outputStartTime(run.startEpochMs);
  writer.outputLegend();
  for (const s of run.seconds) {
    writer.outputIntervalHistogram(s.histogram, s.second, Math.min(s.second + 1, Math.max(run.totalSecs, s.second)), US_PER_MS);
  }
  return text;
}
