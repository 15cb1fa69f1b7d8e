// The member's apply path on the MVCC store: batches of puts (256-byte values over 50,000 keys), one
// batch per event turn, each with an applied-index put to another database of the environment, on
// an environment opened as the member opens it (overlappingSync). lmdb-js commits each turn's
// asynchronous writes in one transaction on its write thread (or several turns in one, when they
// wait for the previous commit's flush). Reports puts/s until everything is committed, main-thread
// time per batch, and batches per LMDB transaction. Run by hand:
//   node --import tsx native-bench/mvcc-apply.ts [puts=300000] [batch sizes=10,50,500]
//
// Before the write buffer each batch ran in one env.transactionSync on the main thread (store puts
// and a putSync of the applied index). The same workload that way, interleaved with runs of this
// script on a shared 2-CPU machine (medians of 3, 300,000 puts): 10/50/500 puts per batch gave
// 19k/74k/185k puts/s with 495/651/2578 µs of main thread per batch; this script gave
// 166k/216k/271k puts/s with 34/146/1187 µs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { MvccStore } from '../src/storage/mvcc/index.js';

const PUTS = Number(process.argv[2] ?? 300_000);
const BATCHES = (process.argv[3] ?? '10,50,500').split(',').map(Number);
const KEYS = 50_000;
const VALUE = Buffer.alloc(256, 0x61);
const keys = Array.from({ length: KEYS }, (_, i) => Buffer.from(`/bench/key-${String(i).padStart(8, '0')}`));

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function run(batch: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvcc-apply-'));
  const env = open({ path: dir, maxDbs: 4, overlappingSync: true });
  try {
    const store = MvccStore.open(env);
    const applied = env.openDB<number, string>({ name: 'bench.applied' });
    const txnsBefore = (env.getStats() as { lastTxnId: number }).lastTxnId;
    const batches = Math.ceil(PUTS / batch);
    let mainMs = 0;
    const start = performance.now();
    for (let n = 0; n < batches; n++) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) store.put({ key: keys[(n * batch + i) % KEYS]!, value: VALUE });
      void applied.put('index', n);
      const wait = store.backpressure();
      mainMs += performance.now() - t0;
      if (wait !== undefined) await wait;
      await nextTurn();
    }
    await store.committed();
    const secs = (performance.now() - start) / 1000;
    const txns = (env.getStats() as { lastTxnId: number }).lastTxnId - txnsBefore;
    console.log(
      `batch ${String(batch).padStart(3)}: ${Math.round((batches * batch) / secs).toLocaleString().padStart(8)} puts/s, ` +
        `main thread ${((mainMs / batches) * 1000).toFixed(0).padStart(4)} µs/batch (${((mainMs / 1000 / secs) * 100).toFixed(0)}% of the run), ` +
        `${(batches / txns).toFixed(1)} batches per LMDB transaction`,
    );
  } finally {
    await env.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const batch of BATCHES) await run(batch);
