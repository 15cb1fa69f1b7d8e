// Runs the thread plans: one plan runs on this thread; several run on worker threads, each with
// its own connections and recorder, while this thread only coordinates. The phases are the same
// either way: all threads set up → common start → each finishes its load → all drain with the
// global count → results (merged later, see run-result.ts).

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadPlan } from './plan.js';
import { ProgressCounters } from './progress.js';
import type { ThreadResult } from './recorder.js';
import type { FromWorker, ToWorker, WorkerInput } from './thread-messages.js';
import { runThread } from './thread-run.js';

export interface ThreadsOutcome {
  readonly results: readonly ThreadResult[];
  /** The common start of the measured load, after any warm-up (epoch ms). */
  readonly startEpochMs: number;
  /** This process's CPU time from the load's start (warm-up included) until the results were in (all threads). */
  readonly cpu: NodeJS.CpuUsage;
  readonly cpuWallMs: number;
}

export interface RunHooks {
  /** The load starts now (measured from `startEpochMs`, after any warm-up); returns what to call when it is over (e.g. to erase a progress bar). */
  onStart(progress: ProgressCounters, startEpochMs: number): () => void;
  /** Aborting it ends the load early; the run still drains and reports. */
  readonly interrupt: AbortSignal;
}

/** Worker threads need a moment to get the start message; all begin at the same time. */
const WORKER_START_DELAY_MS = 20;

export async function runThreads(plans: readonly ThreadPlan[], hooks: RunHooks): Promise<ThreadsOutcome> {
  const progress = ProgressCounters.allocate(plans.length);
  const handles = plans.map((plan) => (plans.length === 1 ? localThread(plan, progress) : workerThread(plan, progress)));
  let loadOver: (() => void) | undefined;
  const stopAll = () => handles.forEach((h) => h.stop());
  try {
    await Promise.all(handles.map((h) => h.ready));
    const cpuAtStart = process.cpuUsage();
    const loadStartEpochMs = performance.timeOrigin + performance.now() + (handles.length > 1 ? WORKER_START_DELAY_MS : 0);
    const startEpochMs = loadStartEpochMs + plans[0]!.options.warmupMs;
    handles.forEach((h) => h.start(loadStartEpochMs));
    loadOver = hooks.onStart(progress, startEpochMs);
    hooks.interrupt.addEventListener('abort', stopAll);
    if (hooks.interrupt.aborted) stopAll();

    const succeeded = await Promise.all(handles.map((h) => h.loadDone));
    loadOver();
    loadOver = undefined;
    const total = succeeded.reduce((a, b) => a + b, 0);
    handles.forEach((h) => h.drain(total));
    const results = await Promise.all(handles.map((h) => h.result));
    return {
      results,
      startEpochMs,
      cpu: process.cpuUsage(cpuAtStart),
      cpuWallMs: performance.timeOrigin + performance.now() - loadStartEpochMs,
    };
  } finally {
    loadOver?.();
    hooks.interrupt.removeEventListener('abort', stopAll);
    await Promise.all(handles.map((h) => h.end()));
  }
}

/** The coordinator's view of one thread. */
interface ThreadHandle {
  readonly ready: Promise<void>;
  start(startEpochMs: number): void;
  readonly loadDone: Promise<number>;
  drain(succeeded: number): void;
  stop(): void;
  readonly result: Promise<ThreadResult>;
  /** Releases the thread, also when the run failed elsewhere. */
  end(): Promise<void>;
}

class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (reason: Error) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor() {
    // Failures are awaited through whichever phase is current; the others may go unobserved.
    this.promise.catch(() => {});
  }
}

const runAborted = () => new Error('run aborted');

function localThread(plan: ThreadPlan, progress: ProgressCounters): ThreadHandle {
  const ready = new Deferred<void>();
  const start = new Deferred<number>();
  const loadDone = new Deferred<number>();
  const drain = new Deferred<number>();
  let stopLoad: (() => void) | undefined;
  let stopRequested = false;
  const result = runThread(plan, {
    ready: () => {
      ready.resolve();
      return start.promise;
    },
    loadDone: (succeeded) => {
      loadDone.resolve(succeeded);
      return drain.promise;
    },
    onStop: (stop) => {
      stopLoad = stop;
      if (stopRequested) stop();
    },
    progress,
  });
  result.catch((e: Error) => {
    ready.reject(e);
    loadDone.reject(e);
  });
  return {
    ready: ready.promise,
    start: (at) => start.resolve(at),
    loadDone: loadDone.promise,
    drain: (n) => drain.resolve(n),
    stop: () => {
      stopRequested = true;
      stopLoad?.();
    },
    result,
    end: async () => {
      start.reject(runAborted());
      drain.reject(runAborted());
      await result.catch(() => {});
    },
  };
}

/** worker.ts next to this module: .js when compiled, .ts when run from sources under tsx. */
const WORKER_EXTENSION = path.extname(fileURLToPath(import.meta.url));

function startWorker(input: WorkerInput): Worker {
  const url = new URL(`./worker${WORKER_EXTENSION}`, import.meta.url);
  if (WORKER_EXTENSION !== '.ts') return new Worker(url, { workerData: input });
  // Node 20 does not carry tsx's loader hooks (--import tsx) into worker threads: the worker
  // registers them itself before loading worker.ts.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const code = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, workerData: input });
}

function workerThread(plan: ThreadPlan, progress: ProgressCounters): ThreadHandle {
  const ready = new Deferred<void>();
  const loadDone = new Deferred<number>();
  const result = new Deferred<ThreadResult>();
  const fail = (e: Error) => [ready, loadDone, result].forEach((d) => d.reject(e));
  const worker = startWorker({ plan, progress: progress.memory });
  const send = (message: ToWorker) => worker.postMessage(message);
  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'ready':
        return ready.resolve();
      case 'load-done':
        return loadDone.resolve(message.succeeded);
      case 'result':
        return result.resolve(message.result);
      case 'failed':
        return fail(new Error(message.message));
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`bench worker thread ${plan.index} exited with code ${code}`)));
  return {
    ready: ready.promise,
    start: (startEpochMs) => send({ type: 'start', startEpochMs }),
    loadDone: loadDone.promise,
    drain: (succeeded) => send({ type: 'drain', succeeded }),
    stop: () => send({ type: 'stop' }),
    result: result.promise,
    end: async () => {
      await worker.terminate();
    },
  };
}
