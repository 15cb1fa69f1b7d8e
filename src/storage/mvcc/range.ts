// etcdserver's Range on top of an MVCC view (apply.go applierV3backend.Range): limit with the
// `more` flag, min/max revision filters, sorting (Go's unstable sort, see go-sort.ts), keys_only,
// count_only. `count` is the number of keys in the range, before limit and filters.
import { EMPTY_BYTES } from './kv-codec.js';
import { goSort } from './go-sort.js';
import { indexKey, indexRangeEnd } from './tree-index.js';
import { SortOrder, SortTarget, type KeyValue, type RangeRequest, type RangeResponse } from './types.js';
import type { ReadView } from './view.js';

type KvLess = (a: KeyValue, b: KeyValue) => boolean;

const LESS: Record<SortTarget, KvLess> = {
  [SortTarget.Key]: (a, b) => Buffer.compare(a.key, b.key) < 0,
  [SortTarget.Version]: (a, b) => a.version < b.version,
  [SortTarget.Create]: (a, b) => a.createRevision < b.createRevision,
  [SortTarget.Mod]: (a, b) => a.modRevision < b.modRevision,
  [SortTarget.Value]: (a, b) => Buffer.compare(a.value, b.value) < 0,
};

export function applyRange(view: ReadView, r: RangeRequest): RangeResponse {
  const reqLimit = r.limit ?? 0;
  const minMod = r.minModRevision ?? 0;
  const maxMod = r.maxModRevision ?? 0;
  const minCreate = r.minCreateRevision ?? 0;
  const maxCreate = r.maxCreateRevision ?? 0;
  const filtered = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
  const target = r.sortTarget ?? SortTarget.Key;
  let order = r.sortOrder ?? SortOrder.None;

  // Sorting or filtering needs every key; otherwise fetch one extra to learn `more`.
  let limit = order !== SortOrder.None || filtered ? 0 : reqLimit;
  if (limit > 0) limit++;

  const rr = view.rangeKeys(indexKey(r.key), indexRangeEnd(r.rangeEnd), r.revision ?? 0, limit, r.countOnly === true);
  let kvs = rr.kvs;

  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        !(maxMod !== 0 && kv.modRevision > maxMod) &&
        !(minMod !== 0 && kv.modRevision < minMod) &&
        !(maxCreate !== 0 && kv.createRevision > maxCreate) &&
        !(minCreate !== 0 && kv.createRevision < minCreate),
    );
  }

  // The index yields key order, so etcd sorts ascending by default only for other targets.
  if (target !== SortTarget.Key && order === SortOrder.None) order = SortOrder.Ascend;
  if (order === SortOrder.Ascend) {
    goSort(kvs, LESS[target]);
  } else if (order === SortOrder.Descend) {
    const less = LESS[target];
    goSort(kvs, (a, b) => less(b, a)); // sort.Reverse
  }

  let more = false;
  if (reqLimit > 0 && kvs.length > reqLimit) {
    kvs.length = reqLimit;
    more = true;
  }
  if (r.keysOnly === true) for (const kv of kvs) kv.value = EMPTY_BYTES;
  return { kvs, more, count: rr.count, revision: rr.rev };
}
