// The in-memory key index takes new keys into its ordered tree lazily (in sorted batches, when a
// range needs order or enough are pending): ranges must still see every live key, in byte order,
// whether it joined the tree through a range, through a full batch, or was compacted away and
// created again while pending.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TreeIndex, type RangeEnd } from '../../src/storage/mvcc/tree-index.js';

const noop = () => {};

function rangeKeys(index: TreeIndex, key: string, end: RangeEnd): string[] {
  const keys: string[] = [];
  index.forRange(key, end, (ki) => keys.push(ki.key));
  return keys;
}

/** Deterministic keys with random-looking bytes after a shared prefix, as etcdctl check perf writes. */
function makeKeys(n: number, seed: number): string[] {
  let x = seed;
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(24);
    b.write('/p/', 0, 'latin1');
    for (let j = 3; j < 12; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[j] = x >>> 24;
    }
    keys.push(b.toString('latin1'));
  }
  return keys;
}

it('ranges see every key in byte order across lazy catch-ups, compactions and re-creations', () => {
  const index = new TreeIndex();
  const live = new Set<string>();
  let rev = 0;
  const keys = makeKeys(20_000, 7);
  const expectRange = (key: string, end: RangeEnd) => {
    const want = [...live]
      .filter((k) => (end === undefined ? k === key : k >= key && (end === '' || k < end)))
      .sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
    assert.deepEqual(rangeKeys(index, key, end), want);
  };

  // More new keys than one batch holds: some join the tree through full batches, the rest wait.
  for (const k of keys.slice(0, 10_000)) {
    index.getOrCreate(k).put(++rev, 0);
    live.add(k);
  }
  expectRange('/p/', '/q');
  expectRange(keys[5]!, '');
  expectRange(keys[9_999]!, undefined);

  // Delete some keys still pending and some already in the tree, compact them away, re-create a few.
  for (const k of keys.slice(10_000, 12_000)) {
    index.getOrCreate(k).put(++rev, 0);
    live.add(k);
  }
  const gone = [...keys.slice(0, 500), ...keys.slice(10_000, 10_500)];
  for (const k of gone) {
    index.get(k)!.tombstone(++rev, 0);
    live.delete(k);
  }
  index.compact(rev, noop);
  for (const k of gone) assert.equal(index.get(k), undefined);
  for (const k of [...gone.slice(0, 100), ...gone.slice(600, 700)]) {
    index.getOrCreate(k).put(++rev, 0);
    live.add(k);
  }
  expectRange('', '');
  expectRange('/p/\x80', '/p/\xc0');

  // A long run of new keys with no range in between: the pending list stays bounded and ranges agree.
  for (const k of keys.slice(12_000)) {
    index.getOrCreate(k).put(++rev, 0);
    live.add(k);
  }
  expectRange('/p/', '/q');
});
