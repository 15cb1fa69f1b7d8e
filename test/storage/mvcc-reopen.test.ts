// Reopening: the index is rebuilt from LMDB alone, so after the store's writes are committed and
// the environment is closed and reopened, every read at every revision, every hash and both
// revisions must be what they were. And after a crash that did not wait for anything, LMDB holds a
// prefix of the event turns: each turn's writes, and the marker the test wrote in the same turn, are
// all there or all absent; writing the lost turns again gives the state a run without crash has.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MvccStore } from '../../src/storage/mvcc/index.js';
import { applyTurn, markedTurn } from './crash-turns.js';
import { TempEnv, b, closeEnv, nextTurn, openEnv } from './helpers.js';

const all = { key: b('\0'), rangeEnd: b('\0') };

/**
 * Everything observable: both revisions, both hashes, and the whole key space at every readable
 * revision. The ranges are read first, at once, so they may come from the write buffer.
 */
async function snapshot(store: MvccStore): Promise<unknown> {
  const current = store.currentRevision;
  const compacted = store.compactedRevision;
  const first = Math.max(compacted, 1);
  const ranges = [];
  for (let rev = first; rev <= current; rev++) ranges.push(store.range({ ...all, revision: rev }));
  const hashKVs = [];
  // HashKV, unlike Range, refuses the compacted revision itself.
  for (let rev = first; rev <= current; rev++) hashKVs.push(rev > compacted ? await store.hashKV(rev) : undefined);
  return { current, compacted, hash: await store.hash(), ranges, hashKVs };
}

it('a reopened store answers exactly as before', async () => {
  const t = new TempEnv();
  try {
    const big = Buffer.alloc(1 << 20, 7); // values may be large (etcd allows 1.5 MiB requests)
    t.store.put({ key: b('a'), value: b('1'), lease: 3n });
    t.store.put({ key: b('b'), value: big });
    t.store.put({ key: b('a'), value: b('2') });
    t.store.deleteRange({ key: b('b') });
    t.store.txn({ compare: [], success: [{ put: { key: b('b'), value: b('again') } }, { put: { key: b('c\x00'), value: b('') } }, { deleteRange: { key: b('a') } }], failure: [] });
    t.store.put({ key: b('a'), value: b('3') });
    const before = await snapshot(t.store);
    assert.deepEqual(await snapshot(await t.reopen()), before);

    t.store.compact(4);
    t.store.put({ key: b('c\x00'), value: b('x') });
    const compacted = await snapshot(t.store);
    assert.deepEqual(await snapshot(await t.reopen()), compacted);
    assert.equal(t.store.compactedRevision, 4);
  } finally {
    await t.dispose();
  }
});

it('reopening after a compaction that left no revision keeps the revision', async () => {
  const t = new TempEnv();
  try {
    t.store.put({ key: b('a'), value: b('1') }); // 2
    t.store.deleteRange({ key: b('a') }); // 3
    t.store.compact(3); // removes both revisions
    const store = await t.reopen();
    assert.equal(store.currentRevision, 3);
    assert.equal(store.compactedRevision, 3);
    assert.deepEqual(t.store.put({ key: b('a'), value: b('2') }), { revision: 4 });
  } finally {
    await t.dispose();
  }
});

it('a burst of writes over many event turns reads the same before its commit, after it, and after a reopen', async () => {
  const t = new TempEnv();
  try {
    for (let n = 1; n <= 90; n++) {
      applyTurn(t.store, n);
      if (n % 3 === 0) await nextTurn(); // some turns hold several of the workload's turns
    }
    assert.ok(t.store.uncommittedBytes > 0);
    const before = await snapshot(t.store); // ranges read now, hashes once committed
    await t.store.committed();
    assert.equal(t.store.uncommittedBytes, 0);
    assert.deepEqual(await snapshot(t.store), before);
    assert.deepEqual(await snapshot(await t.reopen()), before);
  } finally {
    await t.dispose();
  }
});

it('writes flushed to disk survive a reopen', async () => {
  const t = new TempEnv();
  try {
    for (let i = 0; i < 5; i++) t.store.put({ key: b(`k${i}`), value: b(`${i}`) });
    await t.store.flushed();
    const before = await snapshot(t.store);
    assert.deepEqual(await snapshot(await t.reopen()), before);
  } finally {
    await t.dispose();
  }
});

const here = fileURLToPath(import.meta.url);
const WRITER = path.join(path.dirname(here), `crash-writer${path.extname(here)}`); // .ts under tsx, .js compiled

/**
 * Runs crash-writer in dir until it has printed turn `until` (or a later one), then SIGKILLs it.
 * Returns the last turn it reported committed.
 */
function runAndKill(dir: string, until: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let committed = 0;
    let killed = false;
    let stderr = '';
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('committed ')) committed = Number(line.slice('committed '.length));
        else if (!killed && Number(line) >= until) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolve(committed);
      else reject(new Error(`crash-writer exited by itself (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
}

it('killed without waiting for commits, LMDB holds a prefix of the event turns; the lost ones apply again', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsetcd-mvcc-crash-'));
  const replay = new TempEnv();
  let replayed = 0;
  try {
    let marked = 0;
    for (let round = 0; round < 3; round++) {
      const until = marked + 30 + Math.floor(Math.random() * 150);
      const committed = await runAndKill(dir, until);
      const env = openEnv(dir);
      try {
        const store = MvccStore.open(env);
        marked = markedTurn(env);
        t.diagnostic(`round ${round}: killed after turn ${until} was issued; LMDB holds turns up to ${marked} (${committed} known committed)`);
        assert.ok(marked >= committed, `turn ${committed} was committed, the marker says ${marked}`);
        for (; replayed < marked; replayed++) applyTurn(replay.store, replayed + 1);
        assert.deepEqual(await snapshot(store), await snapshot(replay.store), `state after turn ${marked}`);
      } finally {
        await closeEnv(env);
      }
    }
  } finally {
    await replay.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
