// Which watchers an event's key concerns: single keys, prefixes, from-key ranges, shared ranges,
// and watchers leaving.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchRange } from '../../src/main/watch/registry.js';
import { WatcherIndex } from '../../src/main/watch/watcher-index.js';

const w = (name: string, key: string, end: string) => ({ name, range: watchRange(Buffer.from(key, 'latin1'), Buffer.from(end, 'latin1')) });

function matches(index: WatcherIndex<ReturnType<typeof w>>, key: string): string[] {
  const out: string[] = [];
  index.forEachMatch(key, (x) => out.push(x.name));
  return out.sort();
}

describe('watcher matching', () => {
  it('reads ranges as etcd: empty key is \\0, empty end is the key alone, \\0 end is every key from it', () => {
    assert.deepEqual(watchRange(Buffer.alloc(0), Buffer.alloc(0)), { key: '\u0000', end: undefined });
    assert.deepEqual(watchRange(Buffer.from('a'), Buffer.from([0])), { key: 'a', end: '' });
    assert.deepEqual(watchRange(Buffer.from('a'), Buffer.from('b')), { key: 'a', end: 'b' });
  });

  it('finds single-key, prefix, from-key and all-key watchers of a key, and forgets removed ones', () => {
    const index = new WatcherIndex<ReturnType<typeof w>>();
    const all = [
      w('key a', 'a', ''),
      w('key ab', 'ab', ''),
      w('prefix a', 'a', 'b'),
      w('prefix a 2', 'a', 'b'),
      w('prefix ab', 'ab', 'ac'),
      w('from b', 'b', '\0'),
      w('everything', '\0', '\0'),
      w('bytes', '\xff', '\0'),
    ];
    for (const x of all) index.add(x);
    assert.equal(index.size, all.length);
    assert.deepEqual(matches(index, 'a'), ['everything', 'key a', 'prefix a', 'prefix a 2']);
    assert.deepEqual(matches(index, 'ab'), ['everything', 'key ab', 'prefix a', 'prefix a 2', 'prefix ab']);
    assert.deepEqual(matches(index, 'abc'), ['everything', 'prefix a', 'prefix a 2', 'prefix ab']);
    assert.deepEqual(matches(index, 'b'), ['everything', 'from b']);
    assert.deepEqual(matches(index, '\xff\x01'), ['bytes', 'everything', 'from b']);
    assert.deepEqual(matches(index, '\u0000'), ['everything']);
    assert.ok(index.delete(all[2]!));
    assert.ok(!index.delete(all[2]!));
    assert.ok(index.delete(all[0]!));
    assert.deepEqual(matches(index, 'a'), ['everything', 'prefix a 2']);
    index.delete(all[3]!);
    assert.deepEqual(matches(index, 'a'), ['everything']);
    assert.equal(index.size, all.length - 3);
  });
});
