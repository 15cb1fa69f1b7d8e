// Property test: random sequences of puts, deletes, txns (compares, nested txns), ranges at random
// revisions with random options, compactions, HashKV, event-loop turns (lmdb-js may commit what the
// store wrote), waits for the commit and close/reopen run against the MVCC store and against a plain
// model kept here (every revision's whole state, every change record), which must give identical
// answers, errors, revisions and hashes; once the store's writes are committed, LMDB must hold
// exactly the revisions the model says are stored.
//
// A failure prints the seed and path; replay with FC_SEED=<seed> FC_PATH=<path>.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { Errors, GrpcError } from '../../src/main/errors.js';
import { Crc32c } from '../../src/storage/mvcc/crc32c.js';
import { goSort } from '../../src/storage/mvcc/go-sort.js';
import {
  CompareResult,
  CompareTarget,
  MVCC_DB_NAMES,
  SortOrder,
  SortTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from '../../src/storage/mvcc/index.js';
import { TempEnv, b, nextTurn } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// The model. Keys are latin1 strings in Maps; order and ranges are decided with Buffer.compare.

interface MKv {
  key: string;
  create: number;
  mod: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

interface Change {
  main: number;
  sub: number;
  key: string;
  tombstone: boolean;
  bytes: Buffer;
}

const cmpKeys = (x: string, y: string): number => Buffer.compare(b(x), b(y));

function inRange(k: string, key: Buffer, end: Buffer | undefined): boolean {
  const kb = b(k);
  if (end === undefined || end.length === 0) return kb.equals(key);
  if (end.length === 1 && end[0] === 0) return Buffer.compare(kb, key) >= 0;
  return Buffer.compare(kb, key) >= 0 && Buffer.compare(kb, end) < 0;
}

function keysIn(state: Map<string, MKv>, key: Buffer, end: Buffer | undefined): string[] {
  return [...state.keys()].filter((k) => inRange(k, key, end)).sort(cmpKeys);
}

const toKv = (m: MKv): KeyValue => ({ key: b(m.key), createRevision: m.create, modRevision: m.mod, version: m.version, value: m.value, lease: m.lease });

// mvccpb.KeyValue and etcd's revision key, written out longhand.
function varint(n: bigint): number[] {
  const out: number[] = [];
  let u = BigInt.asUintN(64, n);
  do {
    let byte = Number(u & 0x7fn);
    u >>= 7n;
    if (u !== 0n) byte |= 0x80;
    out.push(byte);
  } while (u !== 0n);
  return out;
}

function kvBytes(key: string, m: MKv | undefined): Buffer {
  const k = b(key);
  const out = [0x0a, ...varint(BigInt(k.length)), ...k];
  if (m !== undefined) {
    out.push(0x10, ...varint(BigInt(m.create)), 0x18, ...varint(BigInt(m.mod)), 0x20, ...varint(BigInt(m.version)));
    if (m.value.length > 0) out.push(0x2a, ...varint(BigInt(m.value.length)), ...m.value);
    if (m.lease !== 0n) out.push(0x30, ...varint(m.lease));
  }
  return Buffer.from(out);
}

function revBytes(c: Change): Buffer {
  const buf = Buffer.alloc(c.tombstone ? 18 : 17);
  buf.writeBigUInt64BE(BigInt(c.main), 0);
  buf[8] = 0x5f;
  buf.writeBigUInt64BE(BigInt(c.sub), 9);
  if (c.tombstone) buf[17] = 0x74;
  return buf;
}

class Model {
  /** states[r] is the whole key space at revision r; states[1] is empty. */
  readonly states: Map<string, MKv>[] = [new Map(), new Map()];
  readonly changes: Change[] = [];
  compactRev = -1;

  get rev(): number {
    return this.states.length - 1;
  }

  range(r: RangeRequest): RangeResponse {
    return new ModelTxn(this).range(r);
  }

  write<T>(fn: (tx: ModelTxn) => T): T {
    const tx = new ModelTxn(this);
    const result = fn(tx);
    tx.commit();
    return result;
  }

  compact(rev: number): void {
    if (rev <= this.compactRev) throw Errors.compacted;
    if (rev > this.rev) throw Errors.futureRev;
    this.compactRev = rev;
  }

  /** The change a key shows at rev: its latest with main <= rev, unless a tombstone. */
  private shownAt(key: string, rev: number): Change | undefined {
    let last: Change | undefined;
    for (const c of this.changes) if (c.key === key && c.main <= rev) last = c;
    return last?.tombstone === true ? undefined : last;
  }

  /** Revision keys that must be stored: everything after the compacted revision, and what each key showed at it. */
  storedRevisions(): string[] {
    return this.changes
      .filter((c) => c.main > this.compactRev || this.shownAt(c.key, this.compactRev) === c)
      .map((c) => revBytes(c).toString('hex'));
  }

  hashKV(rev: number): { hash: number; compactRevision: number; revision: number } {
    if (rev > 0 && rev <= this.compactRev) throw Errors.compacted;
    if (rev > this.rev) throw Errors.futureRev;
    const at = rev === 0 ? this.rev : rev;
    const keepAny = this.states[at]!.size > 0;
    const h = new Crc32c().update(b('key'));
    for (const c of this.changes) {
      if (c.main > at) continue;
      if (c.main <= this.compactRev) {
        // Compaction left only what each key showed at the compacted revision.
        if (this.shownAt(c.key, this.compactRev) !== c) continue;
        if (keepAny && this.shownAt(c.key, at) !== c) continue;
      }
      h.update(revBytes(c)).update(c.bytes);
    }
    return { hash: h.value(), compactRevision: this.compactRev, revision: this.rev };
  }
}

interface Plan {
  ok: boolean;
  ops: RequestOp[];
  nested: Map<RequestOp, Plan>;
}

/** One write txn against the model: changes go to a copy of the state that becomes revision begin + 1. */
class ModelTxn {
  readonly begin: number;
  private working: Map<string, MKv> | undefined;
  private subs = 0;

  constructor(private readonly m: Model) {
    this.begin = m.rev;
  }

  private get viewRev(): number {
    return this.subs > 0 ? this.begin + 1 : this.begin;
  }

  private stateAt(rev: number): Map<string, MKv> {
    return rev === this.begin + 1 ? this.working! : this.m.states[rev]!;
  }

  private get current(): Map<string, MKv> {
    return this.working ?? this.m.states[this.begin]!;
  }

  private change(key: string, kv: MKv | undefined): void {
    this.working ??= new Map(this.m.states[this.begin]);
    if (kv === undefined) this.working.delete(key);
    else this.working.set(key, kv);
    this.m.changes.push({ main: this.begin + 1, sub: this.subs++, key, tombstone: kv === undefined, bytes: kvBytes(key, kv) });
  }

  commit(): void {
    if (this.working !== undefined) this.m.states.push(this.working);
  }

  range(r: RangeRequest): RangeResponse {
    const cur = this.viewRev;
    const asked = r.revision ?? 0;
    if (asked > cur) throw Errors.futureRev;
    const at = asked <= 0 ? cur : asked;
    if (at < this.m.compactRev) throw Errors.compacted;
    const state = this.stateAt(at);
    const found = keysIn(state, r.key, r.rangeEnd);
    let kvs = r.countOnly === true ? [] : found.map((k) => toKv(state.get(k)!));
    kvs = kvs.filter(
      (kv) =>
        !(r.maxModRevision && kv.modRevision > r.maxModRevision) &&
        !(r.minModRevision && kv.modRevision < r.minModRevision) &&
        !(r.maxCreateRevision && kv.createRevision > r.maxCreateRevision) &&
        !(r.minCreateRevision && kv.createRevision < r.minCreateRevision),
    );
    const target = r.sortTarget ?? SortTarget.Key;
    let order = r.sortOrder ?? SortOrder.None;
    if (target !== SortTarget.Key && order === SortOrder.None) order = SortOrder.Ascend;
    const field = (kv: KeyValue): number | Buffer =>
      [kv.key, kv.version, kv.createRevision, kv.modRevision, kv.value][target]!;
    const less = (x: KeyValue, y: KeyValue): boolean => {
      const fx = field(x);
      const fy = field(y);
      return typeof fx === 'number' ? fx < (fy as number) : Buffer.compare(fx, fy as Buffer) < 0;
    };
    // The store must reproduce Go's unstable sort; go-sort.ts is checked against etcd's own answers.
    if (order === SortOrder.Ascend) goSort(kvs, less);
    if (order === SortOrder.Descend) goSort(kvs, (x, y) => less(y, x));
    const limit = r.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (r.keysOnly === true) for (const kv of kvs) kv.value = Buffer.alloc(0);
    return { kvs, more, count: found.length, revision: cur };
  }

  put(p: PutRequest): PutResponse {
    const key = p.key.toString('latin1');
    const prev = this.current.get(key);
    if ((p.ignoreValue === true || p.ignoreLease === true) && prev === undefined) throw Errors.keyNotFound;
    const rev = this.begin + 1;
    this.change(key, {
      key,
      create: prev?.create ?? rev,
      mod: rev,
      version: (prev?.version ?? 0) + 1,
      value: p.ignoreValue === true ? prev!.value : p.value,
      lease: p.ignoreLease === true ? prev!.lease : (p.lease ?? 0n),
    });
    return p.prevKv === true && prev !== undefined ? { prevKv: toKv(prev), revision: rev } : { revision: rev };
  }

  deleteRange(d: DeleteRangeRequest): DeleteRangeResponse {
    const doomed = keysIn(this.current, d.key, d.rangeEnd);
    const prevKvs = d.prevKv === true ? doomed.map((k) => toKv(this.current.get(k)!)) : [];
    for (const k of doomed) this.change(k, undefined);
    return { deleted: doomed.length, prevKvs, revision: this.viewRev };
  }

  txn(t: TxnRequest): TxnResponse {
    const base = this.current;
    // Decide every compare, at every depth, before any write.
    const decide = (t: TxnRequest): Plan => {
      const ok = t.compare.every((c) => this.holds(base, c));
      const ops = ok ? t.success : t.failure;
      return { ok, ops, nested: new Map(ops.flatMap((op) => ('txn' in op ? [[op, decide(op.txn)] as const] : []))) };
    };
    const plan = decide(t);
    const walk = (p: Plan, fn: (op: RequestOp) => void): void =>
      p.ops.forEach((op) => ('txn' in op ? walk(p.nested.get(op)!, fn) : fn(op)));
    walk(plan, (op) => {
      if ('put' in op && (op.put.ignoreValue || op.put.ignoreLease) && !base.has(op.put.key.toString('latin1'))) throw Errors.keyNotFound;
    });
    walk(plan, (op) => {
      if (!('range' in op) || !op.range.revision) return;
      if (op.range.revision > this.begin) throw Errors.futureRev;
      if (op.range.revision < this.m.compactRev) throw Errors.compacted;
    });
    const run = (p: Plan): TxnResponse => ({
      succeeded: p.ok,
      revision: 0,
      responses: p.ops.map((op): ResponseOp => {
        if ('range' in op) return { range: this.range(op.range) };
        if ('put' in op) return { put: this.put(op.put) };
        if ('deleteRange' in op) return { deleteRange: this.deleteRange(op.deleteRange) };
        return { txn: run(p.nested.get(op)!) };
      }),
    });
    const resp = run(plan);
    resp.revision = this.viewRev;
    return resp;
  }

  private holds(state: Map<string, MKv>, c: Compare): boolean {
    const found = keysIn(state, c.key, c.rangeEnd).map((k) => state.get(k)!);
    if (found.length === 0 && c.target === CompareTarget.Value) return false;
    const zero: MKv = { key: '', create: 0, mod: 0, version: 0, value: Buffer.alloc(0), lease: 0n };
    return (found.length === 0 ? [zero] : found).every((kv) => {
      const d =
        c.target === CompareTarget.Value ? Buffer.compare(kv.value, c.value ?? Buffer.alloc(0))
        : c.target === CompareTarget.Lease ? Number(kv.lease - (c.lease ?? 0n))
        : c.target === CompareTarget.Create ? kv.create - (c.createRevision ?? 0)
        : c.target === CompareTarget.Mod ? kv.mod - (c.modRevision ?? 0)
        : kv.version - (c.version ?? 0);
      if (c.result === CompareResult.Equal) return d === 0;
      if (c.result === CompareResult.NotEqual) return d !== 0;
      if (c.result === CompareResult.Greater) return d > 0;
      return d < 0;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Generated commands. Revisions are drawn as selectors and fixed against the current revision when
// the command runs, so they land near the interesting range (0, history, current, future).

type Sel = number;
const KEYS = ['a', 'ab', 'b', 'c', '\x00', '\xff', 'a\x00'];
const keyArb = fc.constantFrom(...KEYS).map(b);
const endArb = fc.option(fc.constantFrom('\x00', '', 'b', 'b\x00', 'c', 'd', '\xff', 'a\x00').map(b), { nil: undefined });
const valueArb = fc.constantFrom('', 'x', 'yy', '\x00\xff').map(b);
const leaseArb = fc.constantFrom(0n, 1n, 7n, 2n ** 62n, 2n ** 63n - 1n, -1n);
const selArb = fc.option(fc.nat(1000), { nil: undefined });
const rarely = fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 });

const putArb = fc.record({
  key: keyArb,
  value: valueArb,
  lease: leaseArb,
  prevKv: fc.boolean(),
  ignoreValue: rarely,
  ignoreLease: rarely,
}).map((p) => ({
  kind: 'put' as const,
  // As the API layer lets through: no value with ignore_value, no lease with ignore_lease.
  p: { ...p, value: p.ignoreValue ? Buffer.alloc(0) : p.value, lease: p.ignoreLease ? 0n : p.lease },
}));
const delArb = fc.record({ key: keyArb, rangeEnd: endArb, prevKv: fc.boolean() }).map((d) => ({ kind: 'del' as const, d }));
const rangeArb = fc
  .record({
    key: keyArb,
    rangeEnd: endArb,
    rev: selArb,
    limit: fc.option(fc.nat(4), { nil: undefined }),
    sortOrder: fc.option(fc.constantFrom(SortOrder.None, SortOrder.Ascend, SortOrder.Descend), { nil: undefined }),
    sortTarget: fc.option(fc.constantFrom(SortTarget.Key, SortTarget.Version, SortTarget.Create, SortTarget.Mod, SortTarget.Value), { nil: undefined }),
    keysOnly: rarely,
    countOnly: rarely,
    filters: fc.tuple(selArb, selArb, selArb, selArb),
  })
  .map((r) => ({ kind: 'range' as const, r }));
const compareArb = fc.record({
  key: keyArb,
  rangeEnd: endArb,
  target: fc.constantFrom(CompareTarget.Version, CompareTarget.Create, CompareTarget.Mod, CompareTarget.Value, CompareTarget.Lease),
  result: fc.constantFrom(CompareResult.Equal, CompareResult.Greater, CompareResult.Less, CompareResult.NotEqual),
  num: fc.nat(12),
  value: valueArb,
  lease: leaseArb,
});

type Gen<A> = A extends fc.Arbitrary<infer T> ? T : never;
type RangeSpec = Gen<typeof rangeArb>['r'];
type OpSpec = Gen<typeof putArb> | Gen<typeof delArb> | Gen<typeof rangeArb> | { kind: 'txn'; t: TxnSpec };
interface TxnSpec {
  compare: Gen<typeof compareArb>[];
  success: OpSpec[];
  failure: OpSpec[];
}

function opArb(depth: number): fc.Arbitrary<OpSpec> {
  const ops: fc.Arbitrary<OpSpec>[] = [putArb, delArb, rangeArb];
  if (depth < 2) ops.push(txnArb(depth + 1).map((t) => ({ kind: 'txn' as const, t })));
  return fc.oneof(...ops);
}

function txnArb(depth: number): fc.Arbitrary<TxnSpec> {
  return fc.record({
    compare: fc.array(compareArb, { maxLength: 2 }),
    success: fc.array(opArb(depth), { maxLength: 3 }),
    failure: fc.array(opArb(depth), { maxLength: 3 }),
  });
}

const commandArb = fc.oneof(
  { arbitrary: putArb, weight: 5 },
  { arbitrary: delArb, weight: 2 },
  { arbitrary: rangeArb, weight: 5 },
  { arbitrary: txnArb(0).map((t) => ({ kind: 'txn' as const, t })), weight: 5 },
  { arbitrary: selArb.map((rev) => ({ kind: 'compact' as const, rev })), weight: 1 },
  { arbitrary: selArb.map((rev) => ({ kind: 'hashKV' as const, rev })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'turn' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'committed' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 },
);

/** A selector as a revision in [0, cur + 2]: now, history, or the future. */
const revOf = (sel: Sel | undefined, cur: number): number | undefined => (sel === undefined ? undefined : sel % (cur + 3));

function toRange(r: RangeSpec, cur: number): RangeRequest {
  const req: RangeRequest = { key: r.key, rangeEnd: r.rangeEnd, keysOnly: r.keysOnly, countOnly: r.countOnly };
  if (r.rev !== undefined) req.revision = revOf(r.rev, cur);
  if (r.limit !== undefined) req.limit = r.limit;
  if (r.sortOrder !== undefined) req.sortOrder = r.sortOrder;
  if (r.sortTarget !== undefined) req.sortTarget = r.sortTarget;
  const [minMod, maxMod, minCreate, maxCreate] = r.filters.map((s) => revOf(s, cur));
  if (minMod !== undefined) req.minModRevision = minMod;
  if (maxMod !== undefined) req.maxModRevision = maxMod;
  if (minCreate !== undefined) req.minCreateRevision = minCreate;
  if (maxCreate !== undefined) req.maxCreateRevision = maxCreate;
  return req;
}

function toOp(op: OpSpec, cur: number): RequestOp {
  switch (op.kind) {
    case 'put':
      return { put: op.p };
    case 'del':
      return { deleteRange: op.d };
    case 'range':
      return { range: toRange(op.r, cur) };
    case 'txn':
      return { txn: toTxn(op.t, cur) };
  }
}

function toTxn(t: TxnSpec, cur: number): TxnRequest {
  return {
    compare: t.compare.map((c) => ({
      key: c.key,
      rangeEnd: c.rangeEnd,
      target: c.target,
      result: c.result,
      version: c.num,
      createRevision: c.num,
      modRevision: c.num,
      value: c.value,
      lease: c.lease,
    })),
    success: t.success.map((op) => toOp(op, cur)),
    failure: t.failure.map((op) => toOp(op, cur)),
  };
}

/** The API layer's duplicate-key rule, made stricter: no key put twice, none put inside a deleted range. */
function validTxn(t: TxnRequest): boolean {
  const puts: Buffer[] = [];
  const dels: DeleteRangeRequest[] = [];
  const collect = (ops: RequestOp[]): void =>
    ops.forEach((op) => {
      if ('put' in op) puts.push(op.put.key);
      if ('deleteRange' in op) dels.push(op.deleteRange);
      if ('txn' in op) {
        collect(op.txn.success);
        collect(op.txn.failure);
      }
    });
  collect(t.success);
  collect(t.failure);
  const names = puts.map((k) => k.toString('latin1'));
  if (new Set(names).size !== names.length) return false;
  return !names.some((k) => dels.some((d) => inRange(k, d.key, d.rangeEnd)));
}

// ---------------------------------------------------------------------------------------------

function storedRevisions(env: TempEnv): string[] {
  const db = env.env.openDB<Buffer, Buffer>({ name: MVCC_DB_NAMES.revisions, keyEncoding: 'binary', encoding: 'binary' });
  return [...db.getKeys()].map((k) => k.toString('hex'));
}

type Outcome = { ok: unknown } | { error: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (e) {
    return failure(e);
  }
}

async function asyncOutcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (e) {
    return failure(e);
  }
}

function failure(e: unknown): Outcome {
  if (e instanceof GrpcError) return { error: e.message };
  throw e; // anything else is a bug in the store (or the model)
}

it('the store answers as the model does', async (t) => {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  t.diagnostic(`fast-check seed ${seed} (replay: FC_SEED=${seed})`);
  const commands = fc.array(commandArb, { minLength: 1, maxLength: 80, size: 'max' });
  const tally = new Map<string, number>(); // "<kind> ok|error" -> count, to show what the runs covered
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const env = new TempEnv(true); // noSync: durability is not under test here, and a flush per commit would dominate
      const model = new Model();
      try {
        for (const cmd of cmds) {
          const cur = model.rev;
          let got: Outcome;
          let want: Outcome;
          switch (cmd.kind) {
            case 'put':
              want = outcome(() => model.write((tx) => tx.put(cmd.p)));
              got = outcome(() => env.store.put(cmd.p));
              break;
            case 'del':
              want = outcome(() => model.write((tx) => tx.deleteRange(cmd.d)));
              got = outcome(() => env.store.deleteRange(cmd.d));
              break;
            case 'range': {
              const req = toRange(cmd.r, cur);
              want = outcome(() => model.range(req));
              got = outcome(() => env.store.range(req));
              break;
            }
            case 'txn': {
              const req = toTxn(cmd.t, cur);
              if (!validTxn(req)) continue;
              want = outcome(() => model.write((tx) => tx.txn(req)));
              got = outcome(() => env.store.txn(req));
              break;
            }
            case 'compact': {
              const rev = revOf(cmd.rev, cur) ?? 0;
              want = outcome(() => model.compact(rev));
              got = outcome(() => env.store.compact(rev));
              break;
            }
            case 'hashKV': {
              const rev = revOf(cmd.rev, cur) ?? 0;
              want = outcome(() => model.hashKV(rev));
              got = await asyncOutcome(() => env.store.hashKV(rev));
              break;
            }
            case 'turn':
              await nextTurn();
              want = got = { ok: undefined };
              break;
            case 'committed':
              await env.store.committed();
              got = { ok: env.store.uncommittedBytes };
              want = { ok: 0 }; // the write buffer is empty
              break;
            case 'reopen':
              await env.reopen();
              want = got = { ok: undefined };
              break;
          }
          assert.deepStrictEqual(got, want, `${cmd.kind} at revision ${cur}`);
          const tag = `${cmd.kind} ${'ok' in want ? 'ok' : 'error'}`;
          tally.set(tag, (tally.get(tag) ?? 0) + 1);
          assert.equal(env.store.currentRevision, model.rev, `revision after ${cmd.kind}`);
          assert.equal(env.store.compactedRevision, model.compactRev, `compacted revision after ${cmd.kind}`);
          if (cmd.kind === 'committed' || cmd.kind === 'reopen') assert.deepEqual(storedRevisions(env), model.storedRevisions(), 'revisions in LMDB');
        }
      } finally {
        await env.dispose();
      }
    }),
    {
      seed,
      path: process.env.FC_PATH,
      endOnFailure: process.env.FC_PATH !== undefined,
      numRuns: Number(process.env.FC_RUNS ?? 600),
    },
  );
  t.diagnostic(`commands run: ${[...tally].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
});
