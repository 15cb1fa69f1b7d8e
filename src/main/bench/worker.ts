// Entry point of a worker thread: runs its ThreadPlan under the coordinator's messages.

import { parentPort, workerData } from 'node:worker_threads';
import { ProgressCounters } from './progress.js';
import { runThread } from './thread-run.js';
import type { FromWorker, ToWorker, WorkerInput } from './thread-messages.js';

const port = parentPort;
if (port === null) throw new Error('bench worker.ts must run in a worker thread');
const input = workerData as WorkerInput;
const send = (message: FromWorker) => port.postMessage(message);

let start: ((startEpochMs: number) => void) | undefined;
let drain: ((succeeded: number) => void) | undefined;
let stopLoad: (() => void) | undefined;
let stopRequested = false;

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start':
      start?.(message.startEpochMs);
      break;
    case 'drain':
      drain?.(message.succeeded);
      break;
    case 'stop':
      stopRequested = true;
      stopLoad?.();
      break;
  }
});

runThread(input.plan, {
  ready: () =>
    new Promise<number>((resolve) => {
      start = resolve;
      send({ type: 'ready' });
    }),
  loadDone: (succeeded) =>
    new Promise<number>((resolve) => {
      drain = resolve;
      send({ type: 'load-done', succeeded });
    }),
  onStop: (stop) => {
    stopLoad = stop;
    if (stopRequested) stop();
  },
  progress: new ProgressCounters(input.progress),
}).then(
  (result) => send({ type: 'result', result }),
  (e: unknown) => send({ type: 'failed', message: e instanceof Error ? e.message : String(e) }),
);
