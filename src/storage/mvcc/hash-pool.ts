// The worker pool that computes hashes of revision dbs off the main thread (workers/mvcc-hash.ts):
// one piscina pool per process with one thread (hashes are rare), created on first use and
// destroyed a moment after the last store that used it closes (so that a store closed and opened
// again does not start a thread per hash). Its thread ends after some seconds idle, and never holds
// the process open while idle.
import { Piscina } from 'piscina';
import type { MvccHashResult, MvccHashTask } from '../../workers/mvcc-hash-protocol.js';
import { workerUrl } from '../../workers/worker-url.js';

const IDLE_TIMEOUT_MS = 5000;
/** How long the pool outlives the last store that used it. */
const DESTROY_DELAY_MS = 1000;

let pool: Piscina<MvccHashTask, MvccHashResult> | undefined;
/** HashWorkers that have run a task and are not closed. */
let users = 0;
let destroyTimer: NodeJS.Timeout | undefined;

/** The pool's threads now (tests: none some time after every store closed). */
export function hashPoolThreads(): number {
  return pool?.threads.length ?? 0;
}

/** Whether the pool exists (tests). */
export function hashPoolOpen(): boolean {
  return pool !== undefined;
}

async function destroyPool(): Promise<void> {
  destroyTimer = undefined;
  const last = pool;
  pool = undefined;
  await last?.destroy();
}

/** One store's use of the pool. */
export class HashWorker {
  private joined = false;
  private closed = false;
  private readonly running = new Set<Promise<unknown>>();

  run(task: MvccHashTask): Promise<MvccHashResult> {
    if (this.closed) return Promise.reject(new Error('mvcc: the store is closed'));
    if (!this.joined) {
      this.joined = true;
      users++;
      clearTimeout(destroyTimer);
      destroyTimer = undefined;
    }
    pool ??= new Piscina<MvccHashTask, MvccHashResult>({
      filename: workerUrl('mvcc-hash').href,
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: IDLE_TIMEOUT_MS,
      // The worker's event loop must run between tasks (lmdb-js resets read transactions on timers).
      atomics: 'disabled',
    });
    const result = pool.run(task, { transferList: task.keep === undefined ? [] : [task.keep.buffer] });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return result;
  }

  /** Waits for this store's tasks, then leaves the pool (destroyed soon if no other store joins). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.running);
    if (!this.joined) return;
    this.joined = false;
    if (--users > 0) return;
    destroyTimer = setTimeout(() => void destroyPool(), DESTROY_DELAY_MS);
    destroyTimer.unref();
  }
}
