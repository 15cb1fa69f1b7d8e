// Which watchers an event's key concerns, as etcd's watcherGroup answers it: single-key watchers by
// key in a map; range watchers grouped by their exact range (many watchers often share one, e.g. a
// prefix), the groups kept in start-key order so a lookup stops at the first group starting after
// the key.
import type { WireRange } from './protocol.js';

export interface Ranged {
  readonly range: WireRange;
  /** The index's key for the watcher's range group, worked out on first use (watchers come and go often). */
  groupKey?: string | undefined;
}

interface RangeGroup<W> {
  readonly start: string;
  /** '' = no upper bound. */
  readonly end: string;
  readonly watchers: Set<W>;
}

function groupId(start: string, end: string): string {
  return `${start.length}:${start}${end}`;
}

export class WatcherIndex<W extends Ranged> {
  private readonly single = new Map<string, Set<W>>();
  private readonly groups = new Map<string, RangeGroup<W>>();
  /** The groups by start key; rebuilt on the first lookup after a group came or went. */
  private sorted: RangeGroup<W>[] = [];
  private sortedStale = false;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(w: W): void {
    const { key, end } = w.range;
    if (end === undefined) {
      let set = this.single.get(key);
      if (set === undefined) this.single.set(key, (set = new Set()));
      set.add(w);
    } else {
      const id = (w.groupKey ??= groupId(key, end));
      let group = this.groups.get(id);
      if (group === undefined) {
        group = { start: key, end, watchers: new Set() };
        this.groups.set(id, group);
        this.sortedStale = true;
      }
      group.watchers.add(w);
    }
    this.count++;
  }

  delete(w: W): boolean {
    const { key, end } = w.range;
    if (end === undefined) {
      const set = this.single.get(key);
      if (set === undefined || !set.delete(w)) return false;
      if (set.size === 0) this.single.delete(key);
    } else {
      const id = (w.groupKey ??= groupId(key, end));
      const group = this.groups.get(id);
      if (group === undefined || !group.watchers.delete(w)) return false;
      if (group.watchers.size === 0) {
        this.groups.delete(id);
        this.sortedStale = true;
      }
    }
    this.count--;
    return true;
  }

  /** Calls fn for every watcher whose range holds `key` (a latin1 string). */
  forEachMatch(key: string, fn: (w: W) => void): void {
    const set = this.single.get(key);
    if (set !== undefined) for (const w of set) fn(w);
    if (this.groups.size === 0) return;
    if (this.sortedStale) this.resort();
    for (const g of this.sorted) {
      if (g.start > key) break;
      if (g.end === '' || key < g.end) for (const w of g.watchers) fn(w);
    }
  }

  forEach(fn: (w: W) => void): void {
    for (const set of this.single.values()) for (const w of set) fn(w);
    for (const g of this.groups.values()) for (const w of g.watchers) fn(w);
  }

  private resort(): void {
    this.sorted = [...this.groups.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.sortedStale = false;
  }
}
