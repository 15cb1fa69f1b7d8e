// When each operation may start. Clients ask for their next operation and get the time it is due
// from (the start of its latency), or undefined once the load is over (total reached, duration
// passed, or stopped).
//
// Closed loop (no rate): an operation is due when a client is free to start it.
// Open loop (--rate): operation k is due at start + k/rate whether or not earlier ones have
// finished, so when the server falls behind the waiting shows up in the latencies (no coordinated
// omission). Waiting clients are released by one timer, so starts are late by the timer's
// resolution (about 1 ms), which is counted in the latency too.

import { performance } from 'node:perf_hooks';

export interface Schedule {
  next(): Promise<number | undefined> | number | undefined;
  /** Ends the load: no further operations; clients waiting get undefined. */
  stop(): void;
}

export interface ScheduleLimits {
  /** performance.now() time of the first operation. */
  readonly startMs: number;
  /** Operations of this thread; undefined: until `endMs`. */
  readonly total: number | undefined;
  /** No operation is due at or after this; Infinity for a total. */
  readonly endMs: number;
}

export function scheduleFor(limits: ScheduleLimits, ratePerSecond: number): Schedule {
  return ratePerSecond > 0 ? new OpenLoop(limits, 1000 / ratePerSecond) : new ClosedLoop(limits);
}

class ClosedLoop implements Schedule {
  private issued = 0;
  private stopped = false;

  constructor(private readonly limits: ScheduleLimits) {}

  next(): number | undefined {
    if (this.stopped || (this.limits.total !== undefined && this.issued >= this.limits.total)) return undefined;
    const now = performance.now();
    if (now >= this.limits.endMs) return undefined;
    this.issued++;
    return now;
  }

  stop(): void {
    this.stopped = true;
  }
}

class OpenLoop implements Schedule {
  private issued = 0;
  private stopped = false;
  /** Clients whose operation is not due yet, in due order. */
  private readonly waiting: { due: number; resolve: (due: number | undefined) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: ScheduleLimits,
    private readonly intervalMs: number,
  ) {}

  next(): Promise<number | undefined> | number | undefined {
    if (this.stopped || (this.limits.total !== undefined && this.issued >= this.limits.total)) return undefined;
    const due = this.limits.startMs + this.issued * this.intervalMs;
    if (due >= this.limits.endMs) return undefined;
    this.issued++;
    if (due <= performance.now()) return due;
    return new Promise((resolve) => {
      this.waiting.push({ due, resolve });
      if (this.waiting.length === 1) this.arm();
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.waiting.splice(0)) w.resolve(undefined);
  }

  private arm(): void {
    const head = this.waiting[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.release(), Math.max(0, head.due - performance.now()));
  }

  private release(): void {
    const now = performance.now();
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.due <= now) n++;
    for (const w of this.waiting.splice(0, n)) w.resolve(w.due);
    this.arm();
  }
}
