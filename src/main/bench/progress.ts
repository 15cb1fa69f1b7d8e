// Progress: each thread adds its finished operations and errors to its own slots of shared
// memory (no messages on the hot path); the main thread reads them to draw a bar on a TTY.

import type { StopRule } from './flags.js';

export class ProgressCounters {
  private readonly slots: Int32Array;

  /** `memory` from ProgressCounters.allocate, shared with every thread. */
  constructor(readonly memory: SharedArrayBuffer) {
    this.slots = new Int32Array(memory);
  }

  static allocate(threads: number): ProgressCounters {
    return new ProgressCounters(new SharedArrayBuffer(threads * 2 * Int32Array.BYTES_PER_ELEMENT));
  }

  done(thread: number, ok: boolean): void {
    Atomics.add(this.slots, thread * 2, 1);
    if (!ok) Atomics.add(this.slots, thread * 2 + 1, 1);
  }

  read(): { done: number; errors: number } {
    let done = 0;
    let errors = 0;
    for (let i = 0; i < this.slots.length; i += 2) {
      done += Atomics.load(this.slots, i);
      errors += Atomics.load(this.slots, i + 1);
    }
    return { done, errors };
  }
}

export interface Terminal {
  write(text: string): unknown;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 200;

/** Redraws one status line on stderr until stopped, then erases it. */
export function showProgress(terminal: Terminal, counters: ProgressCounters, stop: StopRule, startedAt: number): () => void {
  let previous = { done: 0, at: startedAt };
  let rate = 0;
  const draw = () => {
    const now = Date.now();
    const { done, errors } = counters.read();
    if (now > previous.at) rate = ((done - previous.done) * 1000) / (now - previous.at);
    previous = { done, at: now };
    // Negative during a warm-up (which only a duration run has).
    const elapsed = now - startedAt;
    const fraction = Math.max(0, Math.min(1, stop.kind === 'total' ? done / stop.total : elapsed / stop.ms));
    const filled = Math.round(fraction * BAR_WIDTH);
    const count = stop.kind === 'total' ? `${done}/${stop.total}` : `${done}`;
    terminal.write(
      `\r\x1b[K ${(fraction * 100).toFixed(0).padStart(3)}% [${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ` +
        `${count} ops  ${Math.round(rate)} ops/s  ${errors} errors  ${elapsed < 0 ? `warm-up ${(-elapsed / 1000).toFixed(1)} s left` : `${(elapsed / 1000).toFixed(1)} s`}`,
    );
  };
  const timer = setInterval(draw, REDRAW_MS);
  return () => {
    clearInterval(timer);
    terminal.write('\r\x1b[K');
  };
}
