// The linearizability checker on hand-made register histories (linearizable or not, with
// outcomes unknown), and on large generated ones for speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/main/faults/random.js';
import { checkOperations } from './linearizability.js';
import { registerModel, type RegisterOp } from './register-model.js';

const U = Infinity;
const w = (key: string, value: string, call: number, ret: number, client = 0): RegisterOp => ({
  client,
  input: { kind: 'write', key, value },
  output: ret === U ? undefined : { kind: 'write' },
  call,
  return: ret,
});
const r = (key: string, value: string | null, call: number, ret: number, client = 1): RegisterOp => ({
  client,
  input: { kind: 'read', key },
  output: { kind: 'read', value },
  call,
  return: ret,
});
const cas = (key: string, expected: string | null, value: string, succeeded: boolean | undefined, call: number, ret: number, client = 2): RegisterOp => ({
  client,
  input: { kind: 'cas', key, expected, value },
  output: succeeded === undefined ? undefined : { kind: 'cas', succeeded },
  call,
  return: ret,
});

const ok = (ops: RegisterOp[]) => assert.deepEqual(checkOperations(registerModel, ops), { ok: true });
const notOk = (ops: RegisterOp[]) => assert.equal(checkOperations(registerModel, ops).ok, false);

test('sequential histories', () => {
  ok([w('x', 'a', 0, 1), r('x', 'a', 2, 3)]);
  ok([r('x', null, 0, 1), w('x', 'a', 2, 3), r('x', 'a', 4, 5)]);
  notOk([w('x', 'a', 0, 1), w('x', 'b', 2, 3), r('x', 'a', 4, 5)]); // stale read
  notOk([w('x', 'a', 0, 1), r('x', null, 2, 3)]); // acknowledged write lost
  notOk([r('x', 'never', 0, 1)]);
});

test('concurrent operations may take effect in either order, but never go back', () => {
  ok([w('x', 'a', 0, 10), r('x', null, 1, 2), r('x', 'a', 3, 4)]);
  ok([w('x', 'a', 0, 10), w('x', 'b', 0, 10), r('x', 'b', 11, 12), r('x', 'b', 13, 14)]);
  notOk([w('x', 'a', 0, 10), r('x', 'a', 1, 2), r('x', null, 3, 4)]);
  notOk([w('x', 'a', 0, 10), w('x', 'b', 0, 10), r('x', 'a', 11, 12), r('x', 'b', 13, 14)]);
});

test('a write with an unknown outcome may have happened, at any time after its call, or not at all', () => {
  ok([w('x', 'a', 0, U), r('x', 'a', 5, 6)]);
  ok([w('x', 'a', 0, U), r('x', null, 5, 6)]);
  ok([w('x', 'a', 0, U), r('x', null, 5, 6), r('x', 'a', 7, 8)]);
  notOk([w('x', 'a', 0, U), r('x', 'a', 5, 6), r('x', null, 7, 8)]);
  notOk([r('x', 'a', 0, 1), w('x', 'a', 2, U)]); // seen before it was called
});

test('compare-and-set', () => {
  ok([w('x', 'a', 0, 1), cas('x', 'a', 'b', true, 2, 3), r('x', 'b', 4, 5)]);
  ok([w('x', 'a', 0, 1), cas('x', 'z', 'b', false, 2, 3), r('x', 'a', 4, 5)]);
  ok([cas('x', null, 'b', true, 0, 1), r('x', 'b', 2, 3)]);
  notOk([w('x', 'a', 0, 1), cas('x', 'a', 'b', false, 2, 3)]);
  notOk([w('x', 'a', 0, 1), cas('x', 'z', 'b', true, 2, 3)]);
  // Unknown outcome: it may have succeeded, but only once.
  ok([w('x', 'a', 0, 1), cas('x', 'a', 'b', undefined, 2, U), r('x', 'b', 4, 5)]);
  ok([w('x', 'a', 0, 1), cas('x', 'a', 'b', undefined, 2, U), r('x', 'a', 4, 5)]);
  notOk([w('x', 'a', 0, 1), cas('x', 'a', 'b', undefined, 2, U), r('x', 'b', 4, 5), r('x', 'a', 6, 7)]);
});

test('keys are independent', () => {
  ok([w('x', 'a', 0, 10), w('y', 'b', 0, 10), r('y', 'b', 1, 2), r('x', null, 3, 4), r('x', 'a', 11, 12)]);
  const result = checkOperations(registerModel, [w('x', 'a', 0, 1), w('y', 'b', 0, 1), r('y', null, 2, 3)]);
  assert.equal(result.ok, false);
  if (result.ok === false) assert.match(result.stuck.join('\n'), /get y -> nil/);
});

/**
 * A history of a linearizable register under `clients` concurrent clients: each operation takes
 * effect at a random moment within its interval; some outcomes are unknown (and the operation
 * then took effect or not).
 */
function generate(seed: number, opsPerKey: number, keys: number, clients: number, unknownRate: number): RegisterOp[] {
  const rnd = new SeededRandom(seed);
  const planned: { op: RegisterOp; at: number; happens: boolean }[] = [];
  const free = new Array<number>(clients).fill(0);
  let seq = 0;
  for (let n = 0; n < opsPerKey * keys; n++) {
    const c = free.indexOf(Math.min(...free));
    const call = free[c]! + rnd.next() * 2;
    const ret = call + 0.5 + rnd.next() * 20;
    const key = `k${rnd.int(keys)}`;
    const kind = rnd.pick(['read', 'read', 'write', 'cas'] as const);
    const value = `c${c}-${seq++}`;
    const input =
      kind === 'read' ? { kind, key } : kind === 'write' ? { kind, key, value } : { kind, key, value, expected: null as string | null };
    const unknown = kind !== 'read' && rnd.chance(unknownRate);
    planned.push({ op: { client: c, input, output: undefined, call, return: unknown ? U : ret }, at: call + rnd.next() * (ret - call), happens: !unknown || rnd.chance(0.5) });
    free[c] = ret;
  }
  // Outputs from applying the operations in the order they took effect.
  const state = new Map<string, string | null>();
  const recent: string[] = [];
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    const { input } = p.op;
    const now = state.get(input.key) ?? null;
    if (input.kind === 'cas') input.expected = rnd.chance(0.5) ? now : (recent[rnd.int(recent.length)] ?? null);
    if (!p.happens) continue;
    if (input.kind === 'read') p.op.output = { kind: 'read', value: now };
    else if (input.kind === 'write') {
      state.set(input.key, input.value);
      recent.push(input.value);
    } else {
      const succeeded = now === input.expected;
      if (succeeded) state.set(input.key, input.value);
      if (p.op.return !== U) p.op.output = { kind: 'cas', succeeded };
    }
    if (input.kind === 'write' && p.op.return !== U) p.op.output = { kind: 'write' };
  }
  return planned.map((p) => p.op);
}

test('thousands of operations per key are checked quickly', () => {
  for (const [opsPerKey, keys, clients] of [
    [5000, 1, 8],
    [5000, 4, 10],
  ] as const) {
    const history = generate(opsPerKey, opsPerKey, keys, clients, 0.05);
    const started = performance.now();
    assert.deepEqual(checkOperations(registerModel, history, { timeoutMs: 30_000 }), { ok: true });
    const ms = performance.now() - started;
    assert.ok(ms < 10_000, `${opsPerKey} ops per key on ${keys} keys, ${clients} clients took ${ms.toFixed(0)} ms`);
  }
});

test('a single stale read among thousands is found', () => {
  const history = generate(3, 3000, 2, 8, 0.05);
  // The last read returns the value of a write that another write certainly followed before it.
  const writes = history.filter((o) => o.input.kind === 'write' && o.output !== undefined);
  const read = history.filter((o) => o.input.kind === 'read' && o.output !== undefined).pop()!;
  const key = read.input.key;
  const overwritten = writes.find((w1) => w1.input.key === key && writes.some((w2) => w2.input.key === key && w2.call > w1.return && w2.return < read.call))!;
  read.output = { kind: 'read', value: (overwritten.input as { value: string }).value };
  const result = checkOperations(registerModel, history, { timeoutMs: 30_000 });
  assert.equal(result.ok, false);
  if (result.ok === false) assert.match(result.stuck.join('\n'), new RegExp(`get ${key} -> "${(overwritten.input as { value: string }).value}"`));
});
