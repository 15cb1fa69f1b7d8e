// The change feed's Change for a write txn that just ended: its events, read back from the write
// buffer (which holds every revision written until LMDB's reads see it).
import type { MvccCore } from './core.js';
import { eventOf, type Change, type MvccEvent } from './events.js';

export function changeOf(core: MvccCore, revision: number, count: number): Change {
  const events: MvccEvent[] = new Array<MvccEvent>(count);
  for (let sub = 0; sub < count; sub++) {
    const stored = core.pending.get(revision, sub);
    if (stored === undefined) throw new Error(`mvcc: revision ${revision}/${sub} just written is not in the write buffer`);
    events[sub] = eventOf(stored, revision, sub);
  }
  return { revision, events };
}
