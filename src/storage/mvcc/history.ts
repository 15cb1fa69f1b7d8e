// The store's history for watchers, as etcd's watchable store reads it for an unsynced watcher: the
// revision db from a start revision on, filtered by key, in revision order. Revisions LMDB has
// committed come from LMDB, the newer ones from the write buffer (LMDB always holds a prefix of the
// revisions, and the buffer keeps each revision until LMDB's reads see it, so the two together miss
// none); prev_kv is read at revision - 1, as etcd's watch server does.
import { Errors } from '../../main/errors.js';
import type { MvccCore } from './core.js';
import { EventType, eventOf, inIndexRange, type HistoryBatch, type HistoryLimits, type IndexRange, type MvccEvent } from './events.js';
import { newVisible } from './key-index.js';
import { RevKeyScratch, revKey, revMain, revSub } from './revision.js';

const visible = newVisible();
const revKeys = new RevKeyScratch();

/**
 * Events with revision >= from on keys in any of `ranges`. Like etcd's watch, a start below the
 * compacted revision fails with Errors.compacted; at the compacted revision it yields what the
 * compaction kept (a put still current there; not a delete).
 */
export function scanHistory(core: MvccCore, from: number, ranges: readonly IndexRange[], limits: HistoryLimits): HistoryBatch {
  if (from < core.compactRev) throw Errors.compacted;
  const scan = new Scan(core, ranges, limits);
  const start = Math.max(from, core.compactRev, 1);
  let lastInDb = start - 1;
  for (const { key: rk, value } of core.revisions.getRange({ start: revKey(start, 0, false) })) {
    const main = revMain(rk);
    if (!scan.add(main, revSub(rk), value)) return scan.stoppedBefore(main);
    lastInDb = main;
  }
  for (const [main, subs] of core.pending.revisionsAbove(lastInDb)) {
    for (let sub = 0; sub < subs.length; sub++) {
      const stored = subs[sub];
      if (stored === undefined) continue;
      // The buffer's bytes are what LMDB's write thread reads: the batch keeps a copy.
      if (!scan.add(main, sub, Buffer.from(stored))) return scan.stoppedBefore(main);
    }
  }
  return { events: scan.events, through: core.currentRev };
}

/** The KeyValue bytes of `key` at revision - 1 (etcd's prev_kv); undefined if none or compacted. */
export function prevKvOf(core: MvccCore, key: string, revision: number): Buffer | undefined {
  const at = revision - 1;
  if (at < core.compactRev || at < 1) return undefined;
  const ki = core.index.get(key);
  if (ki === undefined || !ki.lookup(at, visible)) return undefined;
  const stored = core.pending.get(visible.main, visible.sub) ?? core.revisions.getBinaryFast(revKeys.set(visible.main, visible.sub).plain);
  if (stored === undefined) return undefined;
  // getBinaryFast hands back lmdb-js's shared read buffer, its length an own property: copy by hand.
  const bytes = Buffer.allocUnsafe(stored.length);
  bytes.set(new Uint8Array(stored.buffer, stored.byteOffset, bytes.length));
  return bytes;
}

class Scan {
  readonly events: MvccEvent[] = [];
  private main = -1;
  private matchedInMain = false;
  private revisions = 0;
  private bytes = 0;
  private scanned = 0;

  constructor(
    private readonly core: MvccCore,
    private readonly ranges: readonly IndexRange[],
    private readonly limits: HistoryLimits,
  ) {}

  /** Takes the revision (main, sub); false when a limit ends the scan before revision `main`. */
  add(main: number, sub: number, stored: Buffer): boolean {
    if (main !== this.main) {
      if (this.matchedInMain) this.revisions++;
      if (this.main !== -1 && this.full()) return false;
      this.main = main;
      this.matchedInMain = false;
      this.scanned++;
    }
    const event = eventOf(stored, main, sub);
    const key = event.key.toString('latin1');
    if (!this.matches(key)) return true;
    if (main === this.core.compactRev && !this.keptByCompaction(key, main, sub, event)) return true;
    this.events.push(event);
    this.matchedInMain = true;
    this.bytes += event.kv.length;
    return true;
  }

  /** A limit ended the scan before revision `main`: everything below it was scanned. */
  stoppedBefore(main: number): HistoryBatch {
    return { events: this.events, through: main - 1 };
  }

  private full(): boolean {
    const { maxRevisions, maxBytes, maxScanned } = this.limits;
    return (
      (maxRevisions !== undefined && this.revisions >= maxRevisions) ||
      (maxBytes !== undefined && this.bytes >= maxBytes) ||
      (maxScanned !== undefined && this.scanned >= maxScanned)
    );
  }

  private matches(key: string): boolean {
    for (const r of this.ranges) if (inIndexRange(r, key)) return true;
    return false;
  }

  /**
   * LMDB may still show revisions at the compacted revision that compaction removed (its removals
   * commit asynchronously): only the revision each key shows at the compacted revision is kept.
   */
  private keptByCompaction(key: string, main: number, sub: number, event: MvccEvent): boolean {
    if (event.type !== EventType.Put) return false;
    const ki = this.core.index.get(key);
    return ki !== undefined && ki.lookup(main, visible) && visible.main === main && visible.sub === sub;
  }
}
