// A ring reader on its own thread, for ring.test.ts: reads every record it can while the main
// thread writes, checks each record's bytes against the pattern its sequence number implies, and
// reports what it saw.
import { parentPort, workerData } from 'node:worker_threads';
import { RingReader } from '../../src/main/watch/ring.js';
import { expectedRecord } from './ring-pattern.js';

interface Input {
  ring: SharedArrayBuffer;
  total: number;
}

const { ring, total } = workerData as Input;
const reader = new RingReader(ring);
let cursor = 0;
let read = 0;
let lapped = 0;
let corrupt = 0;
let lastSeq = -1;
let outOfOrder = 0;

async function run(): Promise<void> {
  while (cursor < total) {
    const seen = reader.notifyCount();
    const head = reader.head(cursor);
    if (cursor >= head) {
      await reader.waitAsync(seen);
      continue;
    }
    const record = reader.read(cursor);
    if (record === undefined) {
      lapped++;
      cursor = reader.tail(cursor);
      continue;
    }
    if (!record.bytes.equals(expectedRecord(record.seq)) || record.revision !== record.seq + 1) corrupt++;
    if (record.seq <= lastSeq) outOfOrder++;
    lastSeq = record.seq;
    read++;
    cursor++;
  }
  parentPort!.postMessage({ read, lapped, corrupt, outOfOrder });
}
// A pending Atomics.waitAsync does not keep a thread alive; the open port does.
parentPort!.on('message', () => undefined);
void run();
