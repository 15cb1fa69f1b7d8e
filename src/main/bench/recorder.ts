// What one thread measures: latency samples in per-second histograms (aligned to the run's common
// start, so threads' seconds add up), how late operations started, errors by message, and named
// counts. Its result is plain data, so it crosses from a worker thread as is.

import { performance } from 'node:perf_hooks';
import { encodeHistogram, newHistogram } from './histogram.js';
import { errorKey } from './transport.js';

export interface EncodedInterval {
  /** Seconds since the run's start: this interval covers [second, second + 1). */
  readonly second: number;
  /** The latency samples completed in it (see histogram.ts), compressed. */
  readonly histogram: string;
  readonly errors: number;
}

export interface ThreadResult {
  /** In order; seconds without samples or errors are left out. */
  readonly intervals: readonly EncodedInterval[];
  readonly errors: Readonly<Record<string, number>>;
  readonly counts: Readonly<Record<string, number>>;
  /** How late each recorded operation started after it was due (see Recorder.started), compressed. */
  readonly startLag: string;
  /** When the last sample or error was recorded (epoch ms). */
  readonly lastAtEpochMs: number;
}

export class Recorder {
  private current = newHistogram();
  private readonly startLag = newHistogram();
  private currentSecond = 0;
  private currentErrors = 0;
  private startMs = 0;
  private last = 0;
  private readonly intervals: EncodedInterval[] = [];
  private readonly errors = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  /** Sets the run's common start, on this thread's performance.now() clock (before any sample). */
  begin(startMs: number): void {
    this.startMs = startMs;
    this.last = startMs;
  }

  /** A latency of `latencyMs`, completed at `at` (performance.now()). */
  sample(latencyMs: number, at: number): void {
    this.moveTo(at);
    // 0 µs cannot be told from "no value" in the fastest figure; nothing real is that fast anyway.
    this.current.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  /**
   * An operation started `lagMs` after it was due: the generator's own delay (its event loop, or
   * every client busy), which the latency from due includes.
   */
  started(lagMs: number): void {
    this.startLag.recordValue(Math.max(0, Math.round(lagMs * 1000)));
  }

  error(e: unknown, at: number, times = 1): void {
    this.moveTo(at);
    this.currentErrors += times;
    const key = errorKey(e);
    this.errors.set(key, (this.errors.get(key) ?? 0) + times);
  }

  count(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }

  finish(): ThreadResult {
    this.closeInterval();
    return {
      intervals: this.intervals,
      errors: Object.fromEntries(this.errors),
      counts: Object.fromEntries(this.counts),
      startLag: encodeHistogram(this.startLag),
      lastAtEpochMs: performance.timeOrigin + this.last,
    };
  }

  private moveTo(at: number): void {
    if (at > this.last) this.last = at;
    const second = Math.floor((at - this.startMs) / 1000);
    if (second > this.currentSecond) {
      this.closeInterval();
      this.currentSecond = second;
    }
  }

  private closeInterval(): void {
    if (this.current.totalCount === 0 && this.currentErrors === 0) return;
    this.intervals.push({ second: this.currentSecond, histogram: encodeHistogram(this.current), errors: this.currentErrors });
    this.current.reset();
    this.currentErrors = 0;
  }
}
