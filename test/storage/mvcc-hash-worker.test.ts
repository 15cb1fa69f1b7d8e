// Hash and HashKV on the hash worker thread: the same answers as hash.ts's synchronous loop (here on
// a large store, before and after compactions), a main thread that keeps turning while a large store
// is hashed, a snapshot at another compacted revision sent back to be asked again, and a pool that
// goes away once its stores are closed.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { deferredWritesOf } from '../../src/storage/deferred-writes.js';
import { MvccCore } from '../../src/storage/mvcc/core.js';
import { hashAll, hashByRev, keepAt } from '../../src/storage/mvcc/hash.js';
import { hashPoolOpen, hashPoolThreads } from '../../src/storage/mvcc/hash-pool.js';
import { openMvccDbs } from '../../src/storage/mvcc/store.js';
import hashTask from '../../src/workers/mvcc-hash.js';
import { TempEnv, b } from './helpers.js';

const REVISIONS = 200_000;
const KEYS = 20_000;
const VALUE = Buffer.alloc(100, 0x61);
/**
 * Generous (a loaded machine delays timers too): the worker's hash must keep the event loop's delay
 * under this, and under half the time a hash of the same store on the main thread blocks it.
 */
const MAX_DELAY_MS = 500;

/** A core over what LMDB holds now, for the synchronous computation (hash.ts on this thread). */
function coreOf(t: TempEnv): MvccCore {
  const { revisions, meta } = openMvccDbs(t.env);
  return MvccCore.restore(revisions, meta, deferredWritesOf(t.env));
}

function syncHashes(core: MvccCore, revs: readonly number[]): { all: number; byRev: number[] } {
  return { all: hashAll(core), byRev: revs.map((rev) => hashByRev(core, rev)) };
}

/** Runs fn while a 5 ms interval ticks; returns fn's result and the longest event-loop delay seen (ms). */
async function whileTicking<T>(fn: () => Promise<T>): Promise<{ result: T; maxDelayMs: number; maxGapMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  histogram.enable();
  try {
    const result = await fn();
    // Let the timers fire once more: a delay shows when the loop gets back to them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { result, maxDelayMs: histogram.max / 1e6, maxGapMs };
  } finally {
    histogram.disable();
    clearInterval(timer);
  }
}

async function fill(t: TempEnv): Promise<void> {
  for (let i = 0; i < REVISIONS; i++) {
    if (i % 7 === 6) t.store.deleteRange({ key: b(`key-${(i * 31) % KEYS}`) });
    else t.store.put({ key: b(`key-${(i * 17) % KEYS}`), value: VALUE });
    if (i % 5000 === 4999) await t.store.committed();
  }
  await t.store.committed();
}

describe('hashes on the worker thread', () => {
  it(`a store of ${REVISIONS} revisions: the main thread keeps turning, and the hashes are hash.ts's`, async (t) => {
    const env = new TempEnv(true);
    try {
      await fill(env);
      const store = env.store;
      const current = store.currentRevision;
      const revs = [current, current - 1000, Math.floor(current / 2)];

      const hashed = await whileTicking(async () => ({
        kv: await store.hashKV(0),
        all: await store.hash(),
        byRev: [await store.hashKV(revs[1]!), await store.hashKV(revs[2]!)],
      }));
      const core = coreOf(env);
      const sync = await whileTicking(async () => syncHashes(core, revs));
      t.diagnostic(
        `event-loop delay while hashing: worker max ${hashed.maxDelayMs.toFixed(1)} ms (interval gap ${hashed.maxGapMs.toFixed(1)} ms); ` +
          `main thread max ${sync.maxDelayMs.toFixed(1)} ms (interval gap ${sync.maxGapMs.toFixed(1)} ms)`,
      );
      assert.deepEqual(hashed.result.kv, { hash: sync.result.byRev[0], compactRevision: -1, revision: current });
      assert.equal(hashed.result.all, sync.result.all);
      assert.deepEqual(
        hashed.result.byRev.map((r) => r.hash),
        sync.result.byRev.slice(1),
      );
      const bound = Math.min(MAX_DELAY_MS, sync.maxGapMs / 2);
      assert.ok(hashed.maxDelayMs < bound && hashed.maxGapMs < bound, `event-loop delay ${hashed.maxDelayMs} ms / ${hashed.maxGapMs} ms while the worker hashed`);

      // After a compaction: the keep set the main thread works out goes with the task.
      const compactAt = Math.floor(current * 0.75);
      store.compact(compactAt);
      await store.committed(); // the compaction's own commit is not the hash's to measure
      const after = [current, compactAt + 1, compactAt + 5000];
      const compacted = await whileTicking(async () => ({
        all: await store.hash(),
        byRev: await Promise.all(after.map((rev) => store.hashKV(rev))),
      }));
      const syncAfter = syncHashes(coreOf(env), after);
      assert.equal(compacted.result.all, syncAfter.all);
      assert.deepEqual(
        compacted.result.byRev.map((r) => [r.hash, r.compactRevision, r.revision]),
        syncAfter.byRev.map((hash) => [hash, compactAt, current]),
      );
      t.diagnostic(
        `event-loop delay while hashing after a compaction (keep sets of ${KEYS} keys): max ${compacted.maxDelayMs.toFixed(1)} ms (interval gap ${compacted.maxGapMs.toFixed(1)} ms)`,
      );
      assert.ok(compacted.maxDelayMs < bound && compacted.maxGapMs < bound, `event-loop delay ${compacted.maxDelayMs} ms / ${compacted.maxGapMs} ms while the worker hashed`);

      // A compaction while a hash is under way: the answer is the store's before it or after it, never a mix.
      let compactRev = compactAt;
      for (const turns of [0, 1, 2, 3, 5, 8]) {
        const before = hashByRev(coreOf(env), current);
        const pending = store.hashKV(0);
        for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
        compactRev += 500;
        store.compact(compactRev);
        const got = await pending;
        await store.committed();
        const answers = [
          { hash: before, compactRevision: compactRev - 500, revision: current },
          { hash: hashByRev(coreOf(env), current), compactRevision: compactRev, revision: current },
        ];
        assert.ok(answers.some((a) => a.hash === got.hash && a.compactRevision === got.compactRevision), `after ${turns} turns: ${JSON.stringify(got)}`);
        assert.equal(got.revision, current);
      }
    } finally {
      await env.dispose();
    }
  });

  it('a snapshot at another compacted revision is sent back (a compaction committed before the worker read)', async () => {
    const env = new TempEnv(true);
    try {
      for (let i = 0; i < 20; i++) env.store.put({ key: b(`k${i % 3}`), value: b(`${i}`) });
      env.store.compact(10);
      await env.store.committed();
      const path = (env.env as unknown as { path: string }).path;
      const current = env.store.currentRevision;
      assert.deepEqual(await hashTask({ path, upTo: current, compactRev: 5, keep: undefined }), { type: 'compacted', compactRev: 10 });
      const { revisions, meta } = openMvccDbs(env.env);
      const core = MvccCore.restore(revisions, meta, deferredWritesOf(env.env));
      assert.deepEqual(await hashTask({ path, upTo: current, compactRev: 10, keep: keepAt(core, current) }), {
        type: 'hashed',
        hash: hashByRev(core, current),
      });
      assert.deepEqual(await env.store.hashKV(0), { hash: hashByRev(core, current), compactRevision: 10, revision: current });
    } finally {
      await env.dispose();
    }
  });

  it('stores opened and closed one after another share one pool, gone once they are all closed', async () => {
    for (let i = 0; i < 10; i++) {
      const env = new TempEnv(true);
      env.store.put({ key: b('k'), value: b(`${i}`) });
      await env.store.hashKV(0);
      assert.equal(hashPoolThreads(), 1);
      await env.dispose();
    }
    const open = [new TempEnv(true), new TempEnv(true)];
    await Promise.all(open.map((env) => env.store.hash()));
    await open[0]!.dispose();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(hashPoolOpen(), 'a store still open keeps the pool');
    await open[1]!.dispose();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(!hashPoolOpen(), 'the pool is destroyed after the last store closed');
  });
});
