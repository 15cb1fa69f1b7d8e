// etcd's HashByRev (the HashKV RPC, used to detect divergent members): CRC-32C over the bucket
// name "key", then each (revision key, KeyValue bytes) in revision order with main revision <= rev.
// Revisions at or below the compacted revision count only if they are the revision each key shows
// at `rev` (etcd's index Keep(rev)), unless no key shows any, in which case all of them count.
import type { MvccCore } from './core.js';
import { Crc32c } from './crc32c.js';
import { decodeKeyValue } from './kv-codec.js';
import { newVisible, type Visible } from './key-index.js';
import { isTombstoneKey, revKey, revMain, revSub } from './revision.js';

const KEY_BUCKET = Buffer.from('key');

/** The hash for rev (at most the current revision, checked by the caller). */
export function hashByRev(core: MvccCore, rev: number): number {
  const h = new Crc32c().update(KEY_BUCKET);
  const visible = newVisible();
  let keepAny: boolean | undefined; // computed on the first compacted-range revision met
  for (const { key: rk, value } of core.revisions.getRange({ end: revKey(Math.max(rev + 1, 0), 0, false) })) {
    if (revMain(rk) <= core.compactRev) {
      keepAny ??= core.index.some((ki) => ki.lookup(rev, visible));
      if (keepAny && !inKeep(core, rk, value, rev, visible)) continue;
    }
    h.update(rk).update(value);
  }
  return h.value();
}

function inKeep(core: MvccCore, rk: Buffer, value: Buffer, rev: number, visible: Visible): boolean {
  if (isTombstoneKey(rk)) return false;
  const ki = core.index.get(decodeKeyValue(value).key.toString('latin1'));
  return ki !== undefined && ki.lookup(rev, visible) && visible.main === revMain(rk) && visible.sub === revSub(rk);
}

/** CRC-32C over "key" and every stored (revision key, value): the whole revision db. */
export function hashAll(core: MvccCore): number {
  const h = new Crc32c().update(KEY_BUCKET);
  for (const { key, value } of core.revisions.getRange()) h.update(key).update(value);
  return h.value();
}
