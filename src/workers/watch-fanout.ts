// Entry point of a watch fan-out worker thread: the WatchEngine under the main thread's messages.
// With TSETCD_CPU_PROFILE=<file>, the worker records its own CPU profile too, written to
// <file>.watch-<threadId> when the hub closes it.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { postToMain, type ToWorker, type WatchWorkerData } from '../main/watch/protocol.js';
import { startCpuProfile } from '../main/profiler.js';
import { WatchEngine } from './watch-engine.js';

const port = parentPort;
if (port === null) throw new Error('watch-fanout must run in a worker thread');
const profileFile = process.env.TSETCD_CPU_PROFILE;
const stopProfile = await startCpuProfile(profileFile ? `${profileFile}.watch-${threadId}` : undefined);
const engine = new WatchEngine(workerData as WatchWorkerData, { send: (message) => postToMain(port, message) });

port.on('message', (message: ToWorker) => {
  engine.handle(message);
  if (message.type === 'close') {
    void (stopProfile ?? (async () => undefined))().finally(() => {
      postToMain(port, { type: 'closed' });
      port.close();
    });
  }
});
engine.start();
