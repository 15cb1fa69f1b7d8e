// What a workload is: setup outside the measurement, one operation per call, and for workloads
// whose samples arrive asynchronously (watch), a drain once every thread has finished its load.

import type { KeyGenerator } from '../keys.js';
import type { ThreadPlan } from '../plan.js';
import type { Recorder } from '../recorder.js';
import type { EtcdConnection } from '../transport.js';

export interface WorkloadContext {
  readonly plan: ThreadPlan;
  /** This thread's connections; client c uses connections[c % length]. */
  readonly connections: readonly EtcdConnection[];
  readonly recorder: Recorder;
  /** Keys for this thread, `perOperation` distinct ones per operation. */
  keyGenerator(perOperation: number): KeyGenerator;
  /** The value every put writes (random bytes, --val-size long); reused, like the keys. */
  readonly value: Buffer;
}

export interface Workload {
  /**
   * What the histogram holds: each operation's latency ('operations'), or samples the workload
   * records itself ('events'); then operations are only counted, under `operationName`.
   */
  readonly measures: 'operations' | 'events';
  readonly operationName: string;
  /** Opens streams, grants leases, creates watches: not measured. */
  setup(): Promise<void>;
  /** Runs this thread's operation number `seq` for client `client`; rejects on failure. */
  operation(client: number, seq: number): Promise<unknown>;
  /**
   * After all threads finished their load; `operations` is how many succeeded in all threads.
   * Resolves when the samples still on their way have arrived.
   */
  drain(operations: number): Promise<void>;
  /** Closes what setup opened. */
  teardown(): Promise<void>;
}

export type WorkloadFactory = (context: WorkloadContext) => Workload;
