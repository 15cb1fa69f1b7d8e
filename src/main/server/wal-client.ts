// The main thread's handle on the WAL writer thread: sends writes in order and calls back
// once each is durable. The main thread never waits on disk.
import { Worker } from 'node:worker_threads';
import type { WalWrite } from '../../storage/wal/wal-store.js';
import type { WalRequest, WalResponse, WalWriterData } from '../../workers/wal-protocol.js';
import { workerUrl } from '../../workers/worker-url.js';

export interface WalStats {
  /** Observes each group commit's duration, for etcd_disk_wal_fsync_duration_seconds. */
  onFsync?: (seconds: number) => void;
}

export class WalClient {
  private readonly worker: Worker;
  private seq = 0;
  /** Sequence number of the message the writer thread is working on (0: none). */
  private inFlight = 0;
  private outgoing: WalWrite[] = [];
  private readonly waiting: { seq: number; done: () => void }[] = [];
  private closed: (() => void) | undefined;

  constructor(
    path: string,
    private readonly onFatal: (err: Error) => void,
    readonly stats: WalStats = {},
  ) {
    const data: WalWriterData = { path };
    this.worker = new Worker(workerUrl('wal-writer'), { workerData: data });
    this.worker.on('message', (msg: WalResponse) => this.onMessage(msg));
    this.worker.on('error', (err) => this.onFatal(err));
  }

  /**
   * Queues a write; `durable` runs once it (and everything before it) is fsynced. Group commit
   * on this side: one message is with the writer thread at a time, and writes queued meanwhile
   * travel together as the next one when it reports back (the writer would have merged them
   * into one commit anyway; fewer messages cost both threads less).
   */
  write(write: WalWrite, durable: () => void): void {
    this.outgoing.push(write);
    this.waiting.push({ seq: this.seq + 1, done: durable });
    if (this.outgoing.length === 1 && this.inFlight === 0) queueMicrotask(this.postNow);
  }

  /** Posts what is queued unless a message is still with the writer (its reply posts then). */
  private readonly postNow = (): void => {
    if (this.inFlight === 0) this.post();
  };

  private post(): void {
    if (this.outgoing.length === 0) return;
    const writes = this.outgoing;
    this.outgoing = [];
    const seq = ++this.seq;
    const transfer: ArrayBuffer[] = [];
    for (const w of writes) {
      const batch = w.batch;
      // Transfer (not copy) a batch that owns its whole buffer, as encodeBatch's do.
      if (batch !== undefined && batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength) {
        transfer.push(batch.buffer as ArrayBuffer);
      }
    }
    const req: WalRequest = { type: 'write', seq, writes };
    this.inFlight = seq;
    this.worker.postMessage(req, transfer);
  }

  close(): Promise<void> {
    if (this.outgoing.length > 0) this.post();
    return new Promise((resolve) => {
      this.closed = resolve;
      const req: WalRequest = { type: 'close' };
      this.worker.postMessage(req);
    });
  }

  private onMessage(msg: WalResponse): void {
    switch (msg.type) {
      case 'written': {
        this.stats.onFsync?.(msg.fsyncSeconds);
        let n = 0;
        while (n < this.waiting.length && this.waiting[n]!.seq <= msg.seq) n++;
        for (const w of this.waiting.splice(0, n)) w.done();
        if (msg.seq === this.inFlight) {
          this.inFlight = 0;
          // Post what waited after this turn's immediates: the Raft loop runs there on what the
          // callbacks above made durable, and its next entries join this commit too.
          if (this.outgoing.length > 0) setImmediate(this.postNow);
        }
        return;
      }
      case 'failed':
        this.onFatal(new Error(`WAL write failed: ${msg.message}`));
        return;
      case 'closed':
        void this.worker.terminate().then(() => this.closed?.());
        return;
    }
  }
}
