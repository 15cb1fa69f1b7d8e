// One thread's part of a run: connect, set the workload up, wait for the common start, run the
// clients until the schedule ends, drain, and hand back what was recorded.

import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { KeyGenerator } from './keys.js';
import type { ThreadPlan } from './plan.js';
import type { ProgressCounters } from './progress.js';
import { Recorder, type ThreadResult } from './recorder.js';
import { scheduleFor } from './schedule.js';
import { errorKey, transportFor, type EtcdConnection } from './transport.js';
import { WORKLOAD_FACTORIES } from './workloads/index.js';

/** How the thread meets the others: the coordinator's side of the run (see threads.ts). */
export interface ThreadControl {
  /** Setup is done; resolves with the common start of the load (epoch ms). */
  ready(): Promise<number>;
  /** This thread's load is over with `succeeded` operations; resolves with the sum over all threads. */
  loadDone(succeeded: number): Promise<number>;
  /** `stop` ends the load early when the run is interrupted. */
  onStop(stop: () => void): void;
  readonly progress: ProgressCounters;
}

/** Once no more operations start, those in flight get this long before their connections are cut. */
const IN_FLIGHT_GRACE_MS = 10_000;
const CLOSE_GRACE_MS = 2_000;
/** Setup waits for answers (watch created, lease granted); a server that never answers must not hang the run. */
const SETUP_TIMEOUT_MS = 30_000;

export async function runThread(plan: ThreadPlan, control: ThreadControl): Promise<ThreadResult> {
  const { options } = plan;
  const connections = await connectAll(plan);
  try {
    const recorder = new Recorder();
    const value = randomFillSync(Buffer.alloc(options.valSize));
    const workload = WORKLOAD_FACTORIES[options.workload]({
      plan,
      connections,
      recorder,
      value,
      keyGenerator: (perOperation) => new KeyGenerator(options.keys, perOperation, plan.index, plan.threads),
    });
    try {
      await withTimeout(workload.setup(), SETUP_TIMEOUT_MS, `no answer within ${SETUP_TIMEOUT_MS / 1000} s`);
    } catch (e) {
      throw new Error(`${options.workload} setup failed: ${errorKey(e)}`);
    }

    const loadStartMs = (await control.ready()) - performance.timeOrigin;
    // Operations due during the warm-up run like any other but are not recorded (errors are).
    const startMs = loadStartMs + options.warmupMs;
    recorder.begin(startMs);
    const endMs = options.stop.kind === 'duration' ? startMs + options.stop.ms : Infinity;
    const schedule = scheduleFor({ startMs: loadStartMs, total: plan.total, endMs }, plan.rate);
    control.onStop(() => schedule.stop());
    // Wait for the start itself: the schedule's first operations are due then.
    await sleepUntil(loadStartMs);

    let graceTimer: NodeJS.Timeout | undefined;
    const scheduleEnded = () => {
      graceTimer ??= setTimeout(() => connections.forEach((c) => c.destroy()), IN_FLIGHT_GRACE_MS);
    };
    const measuresOperations = workload.measures === 'operations';
    let seq = 0;
    let succeeded = 0;
    const client = async (c: number) => {
      for (;;) {
        const next = schedule.next();
        const due = typeof next === 'object' ? await next : next;
        if (due === undefined) return scheduleEnded();
        const recorded = measuresOperations && due >= startMs;
        if (recorded) recorder.started(performance.now() - due);
        try {
          await workload.operation(c, seq++);
          const now = performance.now();
          succeeded++;
          if (recorded) recorder.sample(now - due, now);
          control.progress.done(plan.index, true);
        } catch (e) {
          recorder.error(e, performance.now());
          control.progress.done(plan.index, false);
        }
      }
    };
    await Promise.all(Array.from({ length: plan.clients }, (_, c) => client(c)));
    clearTimeout(graceTimer);
    if (!measuresOperations) recorder.count(workload.operationName, succeeded);

    await workload.drain(await control.loadDone(succeeded));
    const result = recorder.finish();
    await workload.teardown();
    return result;
  } finally {
    await closeAll(connections);
  }
}

async function connectAll(plan: ThreadPlan): Promise<EtcdConnection[]> {
  const transport = transportFor(plan.options.protocol);
  const attempts = await Promise.allSettled(plan.connections.map((endpoint) => transport.connect(endpoint)));
  const connections = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const failed = attempts.findIndex((a) => a.status === 'rejected');
  if (failed >= 0) {
    connections.forEach((c) => c.destroy());
    const reason = (attempts[failed] as PromiseRejectedResult).reason;
    throw new Error(`cannot connect to ${plan.connections[failed]!.url}: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
  return connections;
}

async function closeAll(connections: readonly EtcdConnection[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const tooLong = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
  await Promise.race([Promise.all(connections.map((c) => c.close())), tooLong]);
  clearTimeout(timer);
  connections.forEach((c) => c.destroy());
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once performance.now() has reached `ms`: a timer can fire a fraction of a millisecond early. */
async function sleepUntil(ms: number): Promise<void> {
  for (let wait = ms - performance.now(); wait > 0; wait = ms - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
  }
}
