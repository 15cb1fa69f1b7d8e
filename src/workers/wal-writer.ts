// The WAL writer thread: appends Raft entries and hard state to LMDB with group commit.
// Writes that arrive while a commit is running are merged into the next transaction,
// so one fsync covers them all.
import { parentPort, workerData } from 'node:worker_threads';
import { failpoint } from '../main/failpoints.js';
import { WalStore, type WalWrite } from '../storage/wal/wal-store.js';
import type { WalRequest, WalResponse, WalWriterData } from './wal-protocol.js';

const port = parentPort!;
const store = WalStore.open((workerData as WalWriterData).path);
const pending: WalWrite[] = [];
let pendingSeq = 0;
let scheduled = false;

const reply = (msg: WalResponse) => port.postMessage(msg);

function flush(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const writes = pending.splice(0);
  const start = process.hrtime.bigint();
  try {
    failpoint('walBeforeFsync');
    const lastIndex = store.write(writes);
    failpoint('walAfterFsync');
    const fsyncSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    reply({ type: 'written', seq: pendingSeq, lastIndex, fsyncSeconds });
  } catch (e) {
    // A failed durable write leaves the member unable to make progress safely.
    reply({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  }
}

port.on('message', (msg: WalRequest) => {
  if (msg.type === 'write') {
    for (const w of msg.writes) pending.push(w);
    pendingSeq = msg.seq;
    if (!scheduled) {
      scheduled = true;
      // Let the port deliver every queued message first: they join this commit.
      setImmediate(flush);
    }
    return;
  }
  flush();
  void store.close().then(() => {
    reply({ type: 'closed' });
    port.close();
  });
});
