// Throughput of the MVCC store: puts applied 500 per event turn (as the member applies a batch of Raft
// entries; lmdb-js commits each turn's writes in one transaction), then single-key reads. Not a test;
// run by hand (native-bench/mvcc-apply.ts measures the apply path in more detail):
//   node --import tsx test/storage/mvcc-bench.ts [puts=200000] [valueBytes=256]
import { TempEnv, nextTurn } from './helpers.js';

const PUTS = Number(process.argv[2] ?? 200_000);
const VALUE_BYTES = Number(process.argv[3] ?? 256);
const BATCH = 500;
const KEYS = 100_000;

const keyOf = (i: number): Buffer => Buffer.from(`/registry/pods/default/pod-${String(i).padStart(8, '0')}`);

async function run(durable: boolean): Promise<void> {
  const t = new TempEnv(!durable);
  const keys = Array.from({ length: KEYS }, (_, i) => keyOf(i));
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  try {
    let start = performance.now();
    for (let done = 0; done < PUTS; ) {
      const n = Math.min(BATCH, PUTS - done);
      for (let i = 0; i < n; i++) t.store.put({ key: keys[(done + i) % KEYS]!, value });
      done += n;
      await nextTurn();
    }
    await t.store.committed();
    const putSecs = (performance.now() - start) / 1000;

    const order = Array.from({ length: PUTS }, (_, i) => (i * 7919) % KEYS);
    let getSecs = 0;
    for (let round = 0; round < 2; round++) {
      // The second round is the one reported: the first pays for JIT warm-up and page faults.
      start = performance.now();
      let found = 0;
      for (const i of order) found += t.store.range({ key: keys[i]! }).count;
      getSecs = (performance.now() - start) / 1000;
      if (found !== PUTS) throw new Error(`read ${found} of ${PUTS}`);
    }

    console.log(
      `${durable ? 'overlappingSync' : 'noSync         '}: ` +
        `${Math.round(PUTS / putSecs).toLocaleString()} puts/s (${PUTS} puts of ${VALUE_BYTES} B over ${KEYS} keys, ${BATCH} per turn), ` +
        `${Math.round(PUTS / getSecs).toLocaleString()} single-key gets/s, db ${((await t.store.dbSizeBytes()) / 2 ** 20).toFixed(1)} MiB`,
    );
  } finally {
    await t.dispose();
  }
}

await run(true);
await run(false);
