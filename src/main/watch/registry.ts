// A watch stream's watch ids and how a create request becomes a watcher, as etcd's watch server and
// mvcc watchStream decide it (etcdserver/api/v3rpc/watch.go, mvcc/watcher.go).
import type { WatchCreateRequest } from '../api/proto/watch.js';
import { FilterType } from '../api/proto/watch.js';
import type { WireRange } from './protocol.js';

/** etcd's mvcc errors, as the cancel_reason of a create that fails. */
export const CreateErrors = {
  emptyRange: 'mvcc: watcher range is empty',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;

export interface WatcherSpec {
  readonly watchId: number;
  readonly range: WireRange;
  readonly startRevision: number;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  readonly fragment: boolean;
  readonly progressNotify: boolean;
}

export type CreateOutcome = { readonly ok: true; readonly spec: WatcherSpec } | { readonly ok: false; readonly reason: string };

/** etcd's key conventions: an empty key is "\0" (the smallest); range_end empty = the key alone, "\0" = every key from it. */
export function watchRange(key: Uint8Array, rangeEnd: Uint8Array): WireRange {
  const start = key.length === 0 ? '\u0000' : Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1');
  if (rangeEnd.length === 0) return { key: start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: start, end: '' };
  return { key: start, end: Buffer.from(rangeEnd.buffer, rangeEnd.byteOffset, rangeEnd.length).toString('latin1') };
}

export class WatchIds {
  /** Active watch ids, and whether each wants prev_kv. */
  private readonly active = new Map<number, boolean>();
  private nextAuto = 0;

  get size(): number {
    return this.active.size;
  }

  /**
   * Decides a create request, with the store's revision `currentRevision`: the watcher, or why not.
   * A start revision of 0 means the next revision.
   */
  create(req: WatchCreateRequest, currentRevision: number): CreateOutcome {
    const range = watchRange(req.key, req.rangeEnd);
    if (range.end !== undefined && range.end !== '' && range.key >= range.end) return { ok: false, reason: CreateErrors.emptyRange };
    let watchId = req.watchId;
    if (watchId === 0) {
      while (this.active.has(this.nextAuto)) this.nextAuto++;
      watchId = this.nextAuto++;
    } else if (this.active.has(watchId)) {
      return { ok: false, reason: CreateErrors.duplicateId };
    }
    this.active.set(watchId, req.prevKv);
    return {
      ok: true,
      spec: {
        watchId,
        range,
        startRevision: req.startRevision === 0 ? currentRevision + 1 : req.startRevision,
        noPut: req.filters.includes(FilterType.NOPUT),
        noDelete: req.filters.includes(FilterType.NODELETE),
        prevKv: req.prevKv,
        fragment: req.fragment,
        progressNotify: req.progressNotify,
      },
    };
  }

  /** Ends a watch id; undefined if it is not active, else whether it wanted prev_kv. */
  cancel(watchId: number): boolean | undefined {
    const prevKv = this.active.get(watchId);
    this.active.delete(watchId);
    return prevKv;
  }

  /** How many active watchers want prev_kv. */
  prevKvCount(): number {
    let n = 0;
    for (const p of this.active.values()) if (p) n++;
    return n;
  }
}
