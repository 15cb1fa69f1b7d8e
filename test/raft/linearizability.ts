// Linearizability of a register history whose writes are totally ordered by the Raft log.
//
// Every write that took effect has the log index it was applied at; a read observed the
// write with some index (0: the initial empty value). Given that order, the history is
// linearizable iff, per key:
//  - a write acknowledged before another write was invoked has the smaller index;
//  - a read observes a write invoked before the read returned;
//  - a read observes at least every write acknowledged before the read was invoked;
//  - a read observes nothing at or after a write invoked after the read returned;
//  - reads do not go back: a read invoked after another returned observes at least as much.
// Indeterminate operations (no answer) have resp = Infinity.

export interface HistoryOp {
  kind: 'write' | 'read';
  key: string;
  /** Invocation and response times; resp is Infinity if the client never got an answer. */
  inv: number;
  resp: number;
  /** write: the log index it took effect at (undefined if it never did); read: the index observed. */
  index: number | undefined;
  label: string;
}

export function checkLinearizable(history: readonly HistoryOp[]): string | undefined {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  for (const [key, ops] of byKey) {
    const writes = ops.filter((o) => o.kind === 'write' && o.index !== undefined);
    const writeAt = new Map<number, HistoryOp>();
    for (const w of writes) writeAt.set(w.index!, w);
    for (const w of ops) {
      if (w.kind === 'write' && w.index === undefined && w.resp !== Infinity) {
        return `key ${key}: ${w.label} was acknowledged but never took effect`;
      }
    }
    const sortedByResp = [...writes].sort((a, b) => a.resp - b.resp);
    for (const w2 of writes) {
      for (const w1 of sortedByResp) {
        if (w1.resp >= w2.inv) break;
        if (w1 === w2) continue;
        if (w1.index! >= w2.index!) return `key ${key}: ${w1.label} finished before ${w2.label} began but is not before it in the log`;
      }
    }
    const reads = ops.filter((o) => o.kind === 'read' && o.resp !== Infinity);
    for (const r of reads) {
      const v = r.index!;
      if (v !== 0) {
        const w = writeAt.get(v);
        if (w === undefined) return `key ${key}: ${r.label} observed index ${v}, which is no write of this key`;
        if (w.inv > r.resp) return `key ${key}: ${r.label} observed ${w.label}, invoked after the read returned`;
      }
      for (const w of writes) {
        if (w.resp < r.inv && w.index! > v) return `key ${key}: ${r.label} (saw ${v}) missed ${w.label} acknowledged before it`;
        if (w.inv > r.resp && w.index! <= v) return `key ${key}: ${r.label} (saw ${v}) saw ${w.label} invoked after it returned`;
      }
    }
    const readsByResp = [...reads].sort((a, b) => a.resp - b.resp);
    for (const r2 of reads) {
      for (const r1 of readsByResp) {
        if (r1.resp >= r2.inv) break;
        if (r1.index! > r2.index!) return `key ${key}: ${r2.label} (saw ${r2.index}) went back behind ${r1.label} (saw ${r1.index})`;
      }
    }
  }
  return undefined;
}
