// The revisions of one key, as etcd's keyIndex: a list of generations, each running from the put
// that created the key to the tombstone that deleted it. The last generation is open (empty after
// a delete, until the next put starts it).
//
//   put(2) put(4) delete(6) put(8)  =>  [ {created 2, ver 3, revs 2 4 6(tombstone)}, {created 8, ver 1, revs 8} ]

/** The revision of a key visible at some revision; filled in by KeyIndex.lookup. */
export interface Visible {
  main: number;
  sub: number;
  createRevision: number;
  version: number;
}

export function newVisible(): Visible {
  return { main: 0, sub: 0, createRevision: 0, version: 0 };
}

class Generation {
  /** Versions written in this generation so far (a tombstone counts); kept through compaction. */
  ver = 0;
  createRevision = 0;
  /** Flat (main, sub) pairs in increasing order; in a closed generation the last is the tombstone. */
  revs: number[] = [];
}

export type RemovedRevision = (main: number, sub: number, tombstone: boolean) => void;

export class KeyIndex {
  private gens: Generation[] = [new Generation()];

  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  constructor(readonly key: string) {}

  put(main: number, sub: number): void {
    const gen = this.gens[this.gens.length - 1]!;
    const n = gen.revs.length;
    if (n > 0 && (main < gen.revs[n - 2]! || (main === gen.revs[n - 2]! && sub <= gen.revs[n - 1]!))) {
      throw new Error(`mvcc: put of ${main}/${sub} after ${gen.revs[n - 2]}/${gen.revs[n - 1]} on one key`);
    }
    if (n === 0) {
      gen.createRevision = main;
      gen.revs = [main, sub]; // exact size: most keys stay at one revision per generation
    } else {
      gen.revs.push(main, sub);
    }
    gen.ver++;
  }

  /** Ends the current generation; the key must exist at (main, sub). */
  tombstone(main: number, sub: number): void {
    if (this.gens[this.gens.length - 1]!.revs.length === 0) throw new Error('mvcc: tombstone of a deleted key');
    this.put(main, sub);
    this.gens.push(new Generation());
  }

  /**
   * Rebuilding at open: the key's first stored revision is a put whose version and create
   * revision come from its KeyValue (older revisions may have been compacted away).
   */
  restore(createRevision: number, main: number, sub: number, version: number): void {
    const gen = this.gens[0]!;
    gen.createRevision = createRevision;
    gen.revs = [main, sub];
    gen.ver = version;
  }

  /** The revision visible at `atRev` (the latest with main <= atRev, unless it is a tombstone). */
  lookup(atRev: number, out: Visible): boolean {
    const gens = this.gens;
    const last = gens.length - 1;
    for (let g = last; g >= 0; g--) {
      const gen = gens[g]!;
      const revs = gen.revs;
      const n = revs.length;
      if (n === 0) continue;
      if (g !== last && revs[n - 2]! <= atRev) return false; // deleted at or before atRev
      if (revs[0]! > atRev) continue; // generation created after atRev
      let i = n - 2;
      while (revs[i]! > atRev) i -= 2;
      out.main = revs[i]!;
      out.sub = revs[i + 1]!;
      out.createRevision = gen.createRevision;
      out.version = gen.ver - (n - 2 - i) / 2;
      return true;
    }
    return false;
  }

  /**
   * Drops every revision superseded at or before `atRev`: whole generations deleted by then, and in
   * the first remaining generation everything before its latest revision <= atRev. Reports each
   * dropped revision; returns true when nothing is left (the key leaves the index).
   */
  compact(atRev: number, removed: RemovedRevision): boolean {
    const gens = this.gens;
    let g = 0;
    for (; g < gens.length - 1; g++) {
      const revs = gens[g]!.revs;
      const n = revs.length;
      if (revs[n - 2]! > atRev) break;
      for (let i = 0; i < n; i += 2) removed(revs[i]!, revs[i + 1]!, i === n - 2);
    }
    if (g > 0) this.gens = gens.slice(g);
    const first = this.gens[0]!;
    const revs = first.revs;
    let keep = -1;
    for (let i = revs.length - 2; i >= 0; i -= 2) {
      if (revs[i]! <= atRev) {
        keep = i;
        break;
      }
    }
    if (keep > 0) {
      for (let i = 0; i < keep; i += 2) removed(revs[i]!, revs[i + 1]!, false);
      first.revs = revs.slice(keep);
    }
    return this.gens.length === 1 && first.revs.length === 0;
  }
}
