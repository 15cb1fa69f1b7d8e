// The WAL writer thread: appends Raft entries and hard state to LMDB with group commit.
// Writes that arrive while a commit is running are merged into the next transaction,
// so one fsync covers them all. A compaction is carried out a slice per commit (see WalStore),
// with commits of its own while no writes are queued.
import { parentPort, workerData } from 'node:worker_threads';
import { failpoint } from '../main/failpoints.js';
import { WalStore, type WalWrite } from '../storage/wal/wal-store.js';
import type { WalRequest, WalResponse, WalWriterData } from './wal-protocol.js';

const port = parentPort!;
const store = WalStore.open((workerData as WalWriterData).path);
const pending: WalWrite[] = [];
let pendingSeq = 0;
let scheduled = false;
let closing = false;

const reply = (msg: WalResponse) => port.postMessage(msg);

function schedule(): void {
  if (scheduled || closing) return;
  scheduled = true;
  // Let the port deliver every queued message first: they join this commit.
  setImmediate(flush);
}

function flush(): void {
  scheduled = false;
  try {
    if (pending.length > 0) commitPending();
    // Nothing to write: a commit of its own drops the next slice of a compaction.
    else if (store.compacting && !closing) store.write([]);
  } catch (e) {
    // A failed durable write leaves the member unable to make progress safely.
    reply({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  if (store.compacting) schedule();
}

function commitPending(): void {
  const writes = pending.splice(0);
  const start = process.hrtime.bigint();
  failpoint('walBeforeFsync');
  const lastIndex = store.write(writes);
  failpoint('walAfterFsync');
  const fsyncSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  reply({ type: 'written', seq: pendingSeq, lastIndex, fsyncSeconds });
}

port.on('message', (msg: WalRequest) => {
  if (msg.type === 'write') {
    for (const w of msg.writes) pending.push(w);
    pendingSeq = msg.seq;
    schedule();
    return;
  }
  closing = true;
  flush();
  void store.close().then(() => {
    reply({ type: 'closed' });
    port.close();
  });
});
