// etcd's HashByRev (the HashKV RPC, used to detect divergent members): CRC-32C over the bucket
// name "key", then each (revision key, KeyValue bytes) in revision order with main revision <= rev.
// Revisions at or below the compacted revision count only if they are the revision each key shows
// at `rev` (etcd's index Keep(rev)), unless no key shows any, in which case all of them count.
//
// The scan of the revision db (hashRevisions) needs nothing from the in-memory index but that keep
// set, so it runs as well on a worker thread (workers/mvcc-hash.ts) as here: the main thread works
// out the keep set (keepAt) and hands it over with the task.
import type { Transaction } from 'lmdb';
import type { MvccCore, RevisionDb } from './core.js';
import { Crc32c } from './crc32c.js';
import { newVisible, type KeyIndex } from './key-index.js';
import { isTombstoneKey, revKey, revMain, revSub } from './revision.js';
import type { TreeIndex } from './tree-index.js';

const KEY_BUCKET = Buffer.from('key');

/** What to hash of a revision db besides its bytes. */
export interface HashPlan {
  /** Revisions with a main revision above this one are left out (the whole db holds none above the current revision). */
  upTo: number;
  /** The compacted revision the db is at (-1 before any compaction). */
  compactRev: number;
  /** The revisions at or below compactRev that count; undefined: all of them. */
  keep: KeepSet | undefined;
}

/**
 * Revisions (main, sub) as flat pairs, asked about in increasing order: has() walks a cursor
 * through them sorted, so the scan does no lookups and allocates nothing.
 */
export class KeepSet {
  private readonly mains: Float64Array;
  private readonly subs: Float64Array;
  private next = 0;

  /** pairs: (main, sub) flat, in any order. */
  constructor(pairs: Float64Array) {
    const n = pairs.length / 2;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => pairs[2 * a]! - pairs[2 * b]! || pairs[2 * a + 1]! - pairs[2 * b + 1]!);
    this.mains = new Float64Array(n);
    this.subs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.mains[i] = pairs[2 * order[i]!]!;
      this.subs[i] = pairs[2 * order[i]! + 1]!;
    }
  }

  /** Whether the revision key rk is in the set; each call's rk must follow the previous one's. */
  has(rk: Uint8Array): boolean {
    if (isTombstoneKey(rk)) return false; // a tombstone is never the revision a key shows
    const main = revMain(rk);
    const sub = revSub(rk);
    const { mains, subs } = this;
    let i = this.next;
    while (i < mains.length && (mains[i]! < main || (mains[i] === main && subs[i]! < sub))) i++;
    this.next = i;
    return i < mains.length && mains[i] === main && subs[i] === sub;
  }
}

/** Keys looked at per event turn while the keep set is worked out for the hash worker. */
const KEEP_KEYS_PER_TURN = 10_000;

/**
 * The keep set for hashing at rev, from the index (which must match the revision db): as flat
 * (main, sub) pairs, the revision each key shows at rev where that is at or below the compacted
 * revision; undefined when no key shows any revision at rev (then every revision counts).
 * O(keys): work it out only when the db holds revisions at or below the compacted revision.
 */
class KeepCollector {
  private readonly keys: Iterator<KeyIndex>;
  private readonly visible = newVisible();
  private readonly pairs: number[] = [];
  private any = false;

  constructor(
    index: TreeIndex,
    private readonly rev: number,
    private readonly compactRev: number,
  ) {
    this.keys = index.values();
  }

  /** Looks at up to n more keys; false once it has looked at every key. */
  step(n: number): boolean {
    const { rev, visible } = this;
    for (let i = 0; i < n; i++) {
      const next = this.keys.next();
      if (next.done === true) return false;
      if (!next.value.lookup(rev, visible)) continue;
      this.any = true;
      if (visible.main <= this.compactRev) this.pairs.push(visible.main, visible.sub);
    }
    return true;
  }

  result(): Float64Array<ArrayBuffer> | undefined {
    return this.any ? Float64Array.from(this.pairs) : undefined;
  }
}

/** The keep set (see KeepCollector) at once. */
export function keepAt(core: MvccCore, rev: number): Float64Array<ArrayBuffer> | undefined {
  const keep = new KeepCollector(core.index, rev, core.compactRev);
  while (keep.step(Infinity));
  return keep.result();
}

/**
 * The keep set, KEEP_KEYS_PER_TURN keys per event turn, so that a large index does not hold up the
 * main thread; compactRev is the store's when it began. Writes meanwhile leave it as it was at the
 * start: they are above rev, and no write above rev changes which revision a key shows at rev.
 * A compaction meanwhile does change it: the caller must check that none happened (the hash worker
 * compares compactRev with its snapshot's).
 */
export async function keepAtInTurns(core: MvccCore, rev: number, compactRev: number): Promise<Float64Array<ArrayBuffer> | undefined> {
  const keep = new KeepCollector(core.index, rev, compactRev);
  while (keep.step(KEEP_KEYS_PER_TURN)) await new Promise<void>((resolve) => setImmediate(resolve));
  return keep.result();
}

/** Whether the revision db holds a revision at or below the compacted revision. */
export function hasCompactedRange(revisions: RevisionDb, compactRev: number): boolean {
  if (compactRev < 0) return false;
  for (const _ of revisions.getKeys({ end: revKey(compactRev + 1, 0, false), limit: 1 })) return true;
  return false;
}

/** The one hashing loop, over the revision db as the given read transaction (or lmdb-js's current one) sees it. */
export function hashRevisions(revisions: RevisionDb, plan: HashPlan, transaction?: Transaction): number {
  const h = new Crc32c().update(KEY_BUCKET);
  const { compactRev, keep } = plan;
  const end = revKey(Math.max(plan.upTo + 1, 0), 0, false);
  for (const { key: rk, value } of revisions.getRange({ end, transaction })) {
    if (keep !== undefined && revMain(rk) <= compactRev && !keep.has(rk)) continue;
    h.update(rk).update(value);
  }
  return h.value();
}

/** The plan for hashing at rev (at most the current revision, checked by the caller); computes the keep set only if it is needed. */
export function planByRev(core: MvccCore, rev: number): HashPlan {
  const pairs = hasCompactedRange(core.revisions, core.compactRev) ? keepAt(core, rev) : undefined;
  return { upTo: rev, compactRev: core.compactRev, keep: pairs === undefined ? undefined : new KeepSet(pairs) };
}

/** The hash for rev (at most the current revision, checked by the caller), on this thread. */
export function hashByRev(core: MvccCore, rev: number): number {
  return hashRevisions(core.revisions, planByRev(core, rev));
}

/** CRC-32C over "key" and every stored (revision key, value): the whole revision db, on this thread. */
export function hashAll(core: MvccCore): number {
  return hashRevisions(core.revisions, { upTo: core.currentRev, compactRev: core.compactRev, keep: undefined });
}
