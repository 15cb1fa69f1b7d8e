// The in-memory index: every key (as a latin1 string, so JS string order is byte order) to its
// KeyIndex. A B+ tree keeps key order for ranges; a hash map answers single keys, the hot path
// (a map lookup is several times cheaper than a tree descent comparing long shared key prefixes).
// New keys join the tree lazily, in sorted batches (see `unordered`).
// Rebuilt from the revision db at open; never persisted.
import btree from 'sorted-btree';
import { KeyIndex, type RemovedRevision } from './key-index.js';

const BTree = btree.default;

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A range end as etcd's index sees it: undefined = the start key alone, '' = no upper bound,
 * otherwise the exclusive end.
 */
export type RangeEnd = string | undefined;

/** A key as the index holds it. */
export function indexKey(key: Buffer): string {
  return key.toString('latin1');
}

/** A request's range_end as etcd reads it: absent/empty = single key, one 0x00 byte = no upper bound. */
export function indexRangeEnd(rangeEnd: Buffer | undefined): RangeEnd {
  if (rangeEnd === undefined || rangeEnd.length === 0) return undefined;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return '';
  return rangeEnd.toString('latin1');
}

/**
 * Keys per tree node. sorted-btree's default (32) makes the tree a level deeper; with 64 an insert
 * among 300k keys shaped like etcdctl check perf's runs about a quarter faster (fewer levels to
 * descend, so fewer cache misses), and larger nodes gain nothing more.
 */
const NODE_SIZE = 64;

/**
 * New keys held outside the tree at most. A batch this size joins it in a few milliseconds, which
 * bounds the wait of the range that finds it pending.
 */
const MAX_UNORDERED = 1024;

export class TreeIndex {
  private readonly tree = new BTree<string, KeyIndex>(undefined, compareKeys, NODE_SIZE);
  private readonly byKey = new Map<string, KeyIndex>();
  /**
   * Keys created since the tree last caught up (some may since have been compacted away). Only
   * ranges need key order, so a new key is not inserted on the write path: a random insert into a
   * tree of many long keys misses the cache at every level (on a member taking etcdctl check perf's
   * new keys, 8 % of the main thread's busy time), while a sorted batch walks neighbouring nodes.
   */
  private unordered: string[] = [];

  get(key: string): KeyIndex | undefined {
    return this.byKey.get(key);
  }

  /** The key's KeyIndex, created (empty) if the key is new. */
  getOrCreate(key: string): KeyIndex {
    let ki = this.byKey.get(key);
    if (ki === undefined) {
      ki = new KeyIndex(key);
      this.byKey.set(key, ki);
      this.unordered.push(key);
      if (this.unordered.length >= MAX_UNORDERED) this.catchUp();
    }
    return ki;
  }

  /** Inserts the keys created since the last catch-up into the tree, in key order. */
  private catchUp(): void {
    if (this.unordered.length === 0) return;
    const keys = this.unordered.sort();
    this.unordered = [];
    for (const key of keys) {
      const ki = this.byKey.get(key);
      if (ki !== undefined) this.tree.set(key, ki);
    }
  }

  /** Calls fn for each indexed key in the range, in key order. */
  forRange(key: string, end: RangeEnd, fn: (ki: KeyIndex) => void): void {
    if (end === undefined) {
      const ki = this.byKey.get(key);
      if (ki !== undefined) fn(ki);
      return;
    }
    this.catchUp();
    if (end === '') {
      const max = this.tree.maxKey();
      if (max !== undefined && max >= key) this.tree.forRange(key, max, true, (_k, ki) => fn(ki));
      return;
    }
    if (end > key) this.tree.forRange(key, end, false, (_k, ki) => fn(ki));
  }

  /**
   * Every key, in no particular order. The iterator may be kept across changes: keys added after it
   * began come last, keys removed before it reaches them are skipped.
   */
  values(): IterableIterator<KeyIndex> {
    return this.byKey.values();
  }

  /** Whether fn holds for some key (in no particular order); stops at the first. */
  some(fn: (ki: KeyIndex) => boolean): boolean {
    for (const ki of this.byKey.values()) if (fn(ki)) return true;
    return false;
  }

  /** Compacts every key at `atRev`; keys left without revisions leave the index. */
  compact(atRev: number, removed: RemovedRevision): void {
    const empty: string[] = [];
    for (const ki of this.byKey.values()) if (ki.compact(atRev, removed)) empty.push(ki.key);
    for (const key of empty) {
      this.tree.delete(key);
      this.byKey.delete(key);
    }
  }
}
