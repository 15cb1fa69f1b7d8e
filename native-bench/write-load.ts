// A rate-limited Put load from this process, shaped like `etcdctl check perf`: keys under one
// prefix with a random 8-byte suffix padded to 256 bytes, 1 KiB values, at most `ratePerSecond`
// writes started per second (no catching up on a backlog, like check perf's limiter with burst 1)
// and at most `concurrency` in flight. Latencies of acknowledged writes go into an HDR histogram.
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { build } from 'hdr-histogram-js';
import { directClient } from './etcd-client.js';

export interface WriteLoadOptions {
  /** Client URLs; connections are spread over them round-robin and writes over the connections. */
  endpoints: readonly string[];
  /** gRPC connections (one etcd3 client with its own TCP connection each). */
  connections: number;
  ratePerSecond: number;
  concurrency: number;
  /** Stop starting writes after this long; without it the load runs until stop(). */
  durationMs?: number;
  /** Deadline of each write. */
  writeTimeoutMs: number;
  /** Called for every finished write, with performance.now() times. */
  onWrite?: (startedAt: number, endedAt: number, ok: boolean) => void;
}

export interface WriteLoadResult {
  durationS: number;
  acknowledged: number;
  failed: number;
  /** Error message → count, for the failed writes. */
  errors: Record<string, number>;
  writesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number; stddev: number };
}

export interface RunningWriteLoad {
  /** Stops starting writes, waits for those in flight, closes the connections. */
  stop(): Promise<WriteLoadResult>;
  /** Resolves when the load has finished by itself (durationMs elapsed and writes settled). */
  readonly finished: Promise<WriteLoadResult>;
}

const KEY_PREFIX = '/native-bench-load/';
const KEY_BYTES = 256;
const VALUE = Buffer.alloc(1024);

export function startWriteLoad(options: WriteLoadOptions): RunningWriteLoad {
  const clients: Etcd3[] = Array.from({ length: options.connections }, (_, i) =>
    directClient(options.endpoints[i % options.endpoints.length]!, { ownConnection: true }),
  );
  const histogramUs = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  const errors: Record<string, number> = {};
  const intervalMs = 1000 / options.ratePerSecond;
  const startedAt = performance.now();
  const endAt = options.durationMs === undefined ? Infinity : startedAt + options.durationMs;
  let stopping = false;
  let nextStart = startedAt;
  let inFlight = 0;
  let acknowledged = 0;
  let failed = 0;
  let nextClient = 0;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  let settle: (r: WriteLoadResult) => void = () => {};
  const finished = new Promise<WriteLoadResult>((resolve) => (settle = resolve));

  const key = (): Buffer => {
    const k = Buffer.alloc(KEY_PREFIX.length + KEY_BYTES);
    k.write(KEY_PREFIX, 'latin1');
    randomFillSync(k, KEY_PREFIX.length, 8);
    return k;
  };

  // Like check perf's report: from the first write started to the last one settled.
  const result = (): WriteLoadResult => {
    const durationS = (performance.now() - startedAt) / 1000;
    return {
      durationS,
      acknowledged,
      failed,
      errors,
      writesPerSecond: acknowledged / durationS,
      latencyMs: {
        p50: histogramUs.getValueAtPercentile(50) / 1000,
        p99: histogramUs.getValueAtPercentile(99) / 1000,
        max: histogramUs.maxValue / 1000,
        mean: histogramUs.mean / 1000,
        stddev: histogramUs.stdDeviation / 1000,
      },
    };
  };

  const finishIfDone = () => {
    if (done || !stopping || inFlight > 0 || timer !== undefined) return;
    done = true;
    for (const c of clients) c.close();
    settle(result());
  };

  const issue = () => {
    const client = clients[nextClient]!;
    nextClient = (nextClient + 1) % clients.length;
    const t0 = performance.now();
    inFlight++;
    client
      .put(key())
      .value(VALUE)
      .options({ deadline: Date.now() + options.writeTimeoutMs })
      .then(
        () => {
          const t1 = performance.now();
          acknowledged++;
          histogramUs.recordValue(Math.max(1, Math.round((t1 - t0) * 1000)));
          options.onWrite?.(t0, t1, true);
        },
        (e: unknown) => {
          failed++;
          const kind = errorKind(e);
          errors[kind] = (errors[kind] ?? 0) + 1;
          options.onWrite?.(t0, performance.now(), false);
        },
      )
      .finally(() => {
        inFlight--;
        if (timer === undefined) pump();
        finishIfDone();
      });
  };

  // Starts every write that is due, then sleeps until the next one is (or until a slot frees up).
  function pump(): void {
    timer = undefined;
    const now = performance.now();
    if (now >= endAt) stopping = true;
    if (stopping) return finishIfDone();
    while (inFlight < options.concurrency && nextStart <= now) {
      issue();
      // Burst of one: time lost while the server was slow is not made up later.
      nextStart = Math.max(nextStart + intervalMs, now - intervalMs);
    }
    if (inFlight < options.concurrency) timer = setTimeout(pump, Math.max(0, nextStart - now));
  }

  pump();
  return {
    finished,
    stop: () => {
      if (!stopping) {
        stopping = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        finishIfDone();
      }
      return finished;
    },
  };
}

/** An error's message without the per-call details (timings, addresses), so equal failures count together. */
function errorKind(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0]!.split(/,|\. | after /)[0]!.slice(0, 100);
}
