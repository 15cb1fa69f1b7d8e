// Entry point of a watch fan-out worker thread: the WatchEngine under the main thread's messages.
import { parentPort, workerData } from 'node:worker_threads';
import { postToMain, type ToWorker, type WatchWorkerData } from '../main/watch/protocol.js';
import { WatchEngine } from './watch-engine.js';

const port = parentPort;
if (port === null) throw new Error('watch-fanout must run in a worker thread');
const engine = new WatchEngine(workerData as WatchWorkerData, { send: (message) => postToMain(port, message) });

port.on('message', (message: ToWorker) => {
  engine.handle(message);
  if (message.type === 'close') {
    postToMain(port, { type: 'closed' });
    port.close();
  }
});
engine.start();
