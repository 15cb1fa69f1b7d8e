// Messages between the coordinating thread and a worker thread running part of the load.

import type { ThreadPlan } from './plan.js';
import type { ThreadResult } from './recorder.js';

/** The worker's workerData. */
export interface WorkerInput {
  readonly plan: ThreadPlan;
  /** ProgressCounters memory. */
  readonly progress: SharedArrayBuffer;
}

export type ToWorker =
  /** Begin the load at this time (epoch ms). */
  | { readonly type: 'start'; readonly startEpochMs: number }
  /** All threads are done: this many operations succeeded in all. */
  | { readonly type: 'drain'; readonly succeeded: number }
  /** End the load early. */
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'load-done'; readonly succeeded: number }
  | { readonly type: 'result'; readonly result: ThreadResult }
  | { readonly type: 'failed'; readonly message: string };
