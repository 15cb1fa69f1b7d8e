// How the load is split over threads: each thread gets its own connections, clients, share of
// the total and of the rate, and watchers (plain data, handed to worker threads as is).

import type { BenchOptions, Endpoint } from './flags.js';

export interface ThreadPlan {
  readonly index: number;
  readonly threads: number;
  readonly options: BenchOptions;
  /** The endpoint of each of this thread's connections (all connections round-robin over the endpoints). */
  readonly connections: readonly Endpoint[];
  readonly clients: number;
  /** This thread's operations, when the run has a total. */
  readonly total: number | undefined;
  /** This thread's share of --rate (0: unlimited). */
  readonly rate: number;
  readonly watchers: number;
  readonly streams: number;
}

/** `n` split into `parts` near-equal shares, larger ones first. */
function share(n: number, parts: number, part: number): number {
  return Math.floor(n / parts) + (part < n % parts ? 1 : 0);
}

export function planThreads(options: BenchOptions): ThreadPlan[] {
  const { threads, endpoints } = options;
  let firstConnection = 0;
  return Array.from({ length: threads }, (_, index) => {
    const conns = share(options.conns, threads, index);
    const connections = Array.from({ length: conns }, (_, i) => endpoints[(firstConnection + i) % endpoints.length]!);
    firstConnection += conns;
    const clients = share(options.clients, threads, index);
    return {
      index,
      threads,
      options,
      connections,
      clients,
      total: options.stop.kind === 'total' ? share(options.stop.total, threads, index) : undefined,
      rate: (options.rate * clients) / options.clients,
      watchers: share(options.watchers, threads, index),
      streams: share(options.streams, threads, index),
    };
  });
}
