// A key-value store as a set of independent registers (one per key) for the linearizability
// checker: read, write, and compare-and-set on the value. null is "no such key".
//
// The clients compare mod revisions too (what etcd clients mostly do); since every value they
// write is unique, "mod revision = r" where r was read along with value v is the same as
// "value = v", and "mod revision = 0" the same as "no such key": the history records that.
import type { Model, Operation } from './linearizability.js';

export type RegisterInput =
  | { kind: 'read'; key: string }
  | { kind: 'write'; key: string; value: string }
  | { kind: 'cas'; key: string; expected: string | null; value: string };

export type RegisterOutput = { kind: 'read'; value: string | null } | { kind: 'write' } | { kind: 'cas'; succeeded: boolean };

export type RegisterOp = Operation<RegisterInput, RegisterOutput>;

function hashString(s: string | null): number {
  if (s === null) return 0x5bd1e995;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export const registerModel: Model<string | null, RegisterInput, RegisterOutput> = {
  partition(ops) {
    const byKey = new Map<string, RegisterOp[]>();
    for (const op of ops) {
      // A read nobody heard back from constrains nothing.
      if (op.input.kind === 'read' && op.output === undefined) continue;
      let list = byKey.get(op.input.key);
      if (list === undefined) byKey.set(op.input.key, (list = []));
      list.push(op);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  init: () => null,
  step(state, input, output) {
    switch (input.kind) {
      case 'read':
        return output === undefined || (output.kind === 'read' && output.value === state) ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const holds = state === input.expected;
        if (output === undefined) return holds ? input.value : state;
        if (output.kind !== 'cas') return undefined;
        if (output.succeeded) return holds ? input.value : undefined;
        return holds ? undefined : state;
      }
    }
  },
  equal: (a, b) => a === b,
  hash: hashString,
  describe(op) {
    const { input, output } = op;
    const when = `[${op.call.toFixed(1)}, ${op.return === Infinity ? '?' : op.return.toFixed(1)}] client ${op.client}`;
    const show = (v: string | null) => (v === null ? 'nil' : JSON.stringify(v));
    switch (input.kind) {
      case 'read':
        return `${when} get ${input.key} -> ${output?.kind === 'read' ? show(output.value) : '?'}`;
      case 'write':
        return `${when} put ${input.key}=${show(input.value)}${output === undefined ? ' (outcome unknown)' : ''}`;
      case 'cas':
        return `${when} cas ${input.key} ${show(input.expected)}->${show(input.value)} -> ${output?.kind === 'cas' ? String(output.succeeded) : '?'}`;
    }
  },
};
