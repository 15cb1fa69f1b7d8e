// The WAL writer thread: appends Raft entries and hard state to LMDB with group commit.
// Writes that arrive while a commit is running are merged into the next transaction,
// so one fsync covers them all. A compaction is carried out a slice per commit (see WalStore),
// with commits of its own once writes pause.
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
/** A compaction slice of its own, once writes pause (they carry slices while they come). */
let idleSlice: NodeJS.Timeout | undefined;
/**
 * How long writes must pause before a slice gets a commit of its own. Under load the next writes
 * are often still on their way when a commit ends; without the pause a compaction-only commit
 * would start in that gap, and the next group commit would wait for it.
 */
const IDLE_SLICE_MS = 2;

const reply = (msg: WalResponse) => port.postMessage(msg);
const fail = (e: unknown) => reply({ type: 'failed', message: e instanceof Error ? e.message : String(e) });

function schedule(): void {
  if (scheduled || closing) return;
  scheduled = true;
  // Let the port deliver every queued message first: they join this commit.
  setImmediate(flush);
}

function flush(): void {
  scheduled = false;
  if (pending.length === 0) return;
  try {
    commitPending();
  } catch (e) {
    // A failed durable write leaves the member unable to make progress safely.
    fail(e);
    return;
  }
  if (store.compacting) idleSlice ??= setTimeout(compactWhileIdle, IDLE_SLICE_MS);
}

function compactWhileIdle(): void {
  idleSlice = undefined;
  // Writes on their way carry the next slice themselves.
  if (closing || scheduled) return;
  try {
    store.write([]);
  } catch (e) {
    fail(e);
    return;
  }
  if (store.compacting) idleSlice = setTimeout(compactWhileIdle, IDLE_SLICE_MS);
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
  clearTimeout(idleSlice);
  flush();
  void store.close().then(() => {
    reply({ type: 'closed' });
    port.close();
  });
});
