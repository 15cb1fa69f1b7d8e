// A linearizability checker in the style of Wing & Gong with Lowe's memoization, as Porcupine
// does it: per partition (per key: linearizability is compositional), a depth-first search for
// an order of the operations that respects real time and the model, remembering every
// configuration (operations linearized, model state) already explored so none is searched twice.
// Sets of operations are bitsets, hashed incrementally (Zobrist: one random word per operation).
//
// An operation whose outcome is unknown (the client gave up: it may or may not have happened)
// has output undefined and return time Infinity: it may take effect at any point after its call,
// or never. Placing such operations everywhere is what makes naive searches explode, so they are
// placed lazily: only as a short chain right before an operation with a known outcome that the
// chain makes possible. That loses no linearization for models where, if an operation k can go
// both before and after an unknown one u, u either commutes with k or is overwritten by it
// (so u can be moved after k, or dropped): true of registers whose written values are unique
// (k is then a write, which overwrites u, or a failed compare-and-set, which commutes with it),
// which is what the clients write. A history is linearizable once every operation with a
// known outcome is placed; a configuration that used a subset of another's unknown operations
// (same known ones, same state) dominates it.

export interface Operation<I, O> {
  /** For messages: who issued it. */
  client: number;
  input: I;
  /** undefined: the outcome is unknown. */
  output: O | undefined;
  /** Invocation and response times (any monotonic clock); return is Infinity when unknown. */
  call: number;
  return: number;
}

export interface Model<S, I, O> {
  /** Splits a history into independent parts (e.g. per key); default: one part. */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  init(): S;
  /** The state after the operation, or undefined if it cannot have had this output in `state`. */
  step(state: S, input: I, output: O | undefined): S | undefined;
  equal(a: S, b: S): boolean;
  hash(state: S): number;
  describe(op: Operation<I, O>): string;
}

export type CheckResult =
  | { ok: true }
  | { ok: 'unknown'; reason: string }
  | {
      ok: false;
      /** The partition that has no linearization, described by the model (e.g. its key). */
      partition: number;
      /** The longest order found that fits the model, as operation descriptions, and what then could not go next. */
      longest: string[];
      stuck: string[];
    };

export interface CheckOptions {
  /** Give up (result 'unknown') after this long; default 60 s. */
  timeoutMs?: number;
}

interface Node {
  /** Index of the operation; -1 for the list head. */
  op: number;
  isCall: boolean;
  /** A call's return node. */
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

export function checkOperations<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], options: CheckOptions = {}): CheckResult {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const parts = model.partition?.(history) ?? [[...history]];
  for (const [i, part] of parts.entries()) {
    const result = checkPart(model, part, deadline);
    if (result === 'timeout') return { ok: 'unknown', reason: `gave up after ${options.timeoutMs ?? 60_000} ms on partition ${i}` };
    if (result !== undefined) return { ok: false, partition: i, ...result };
  }
  return { ok: true };
}

/**
 * Longest chain of unknown-outcome operations placed before one known operation. A longer chain
 * takes compare-and-sets expecting values nobody read; the clients only compare against values
 * they read (whose writers the search then placed already), so chains stay short.
 */
const MAX_CHAIN = 3;
/** Bound on the memo of chains (it is dropped whole when full). */
const MAX_CACHED_CHAINS = 10_000;

/** Unknown-outcome operations in order, and the state they lead to. */
interface Chain<S> {
  state: S;
  chain: number[];
}

interface Move<S> {
  /** Unknown-outcome operations, then the known one, in order. */
  ops: number[];
  state: S;
}

interface Frame<S> {
  moves: Move<S>[];
  next: number;
  /** The chain moves were added after the direct ones. */
  chained: boolean;
  /** The move taken (index into moves), and the state before it. */
  taken: number;
  before: S;
}

/** undefined: linearizable. */
function checkPart<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  deadline: number,
): { longest: string[]; stuck: string[] } | 'timeout' | undefined {
  const n = ops.length;
  const unknown = ops.map((op) => op.return === Infinity);
  const knownCount = unknown.filter((u) => !u).length;
  if (knownCount === 0) return undefined;
  const head = buildList(ops);
  const calls = new Map<number, Node>();
  for (let node = head.next; node !== undefined; node = node.next) if (node.isCall) calls.set(node.op, node);
  const zobrist = new Uint32Array(n);
  for (let i = 0; i < n; i++) zobrist[i] = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(i ^ 0x5bd1e995, 0x85ebca6b)) >>> 0;
  const words = (n + 31) >>> 5;
  const knownBits = new Uint32Array(words);
  const unknownBits = new Uint32Array(words);
  let knownHash = 0;
  let linearizedKnown = 0;
  const cache = new Map<number, { known: Uint32Array; unknown: Uint32Array; state: S }[]>();
  /** Remembers the current configuration; true if it, or one that dominates it, was seen before. */
  const seen = (state: S): boolean => {
    const hash = (knownHash ^ Math.imul(model.hash(state), 0x27d4eb2d)) >>> 0;
    const bucket = cache.get(hash);
    if (bucket !== undefined) {
      for (const e of bucket) if (sameBits(e.known, knownBits) && subsetOf(e.unknown, unknownBits) && model.equal(e.state, state)) return true;
    }
    const entry = { known: knownBits.slice(), unknown: unknownBits.slice(), state };
    if (bucket === undefined) cache.set(hash, [entry]);
    else bucket.push(entry);
    return false;
  };
  const flip = (i: number) => {
    if (unknown[i]) unknownBits[i >>> 5]! ^= 1 << (i & 31);
    else {
      knownBits[i >>> 5]! ^= 1 << (i & 31);
      knownHash ^= zobrist[i]!;
      linearizedKnown += (knownBits[i >>> 5]! >>> (i & 31)) & 1 ? 1 : -1;
    }
  };

  /** The callable operations now: those with a known outcome, and pending unknown ones. */
  const callable = (): { known: number[]; pending: number[] } => {
    const known: number[] = [];
    const pending: number[] = [];
    for (let node = head.next; node !== undefined && node.isCall; node = node.next) (unknown[node.op] ? pending : known).push(node.op);
    return { known, pending };
  };

  /** Known operations that can go next from `state` as they are. */
  const directMoves = (state: S): Move<S>[] => {
    const moves: Move<S>[] = [];
    for (const k of callable().known) {
      const after = model.step(state, ops[k]!.input, ops[k]!.output);
      if (after !== undefined) moves.push({ ops: [k], state: after });
    }
    return moves;
  };

  /**
   * Known operations that cannot go next from `state` as they are, each after a chain of unknown
   * ones that makes it possible. Each link of a chain must act differently than it would
   * straight from `state` (otherwise a shorter chain does the same). Only computed once the
   * direct moves are exhausted: the search rarely needs them.
   */
  const chainMoves = (state: S): Move<S>[] => {
    const { known, pending } = callable();
    const blocked = known.filter((k) => model.step(state, ops[k]!.input, ops[k]!.output) === undefined);
    if (blocked.length === 0 || pending.length === 0) return [];
    const moves: Move<S>[] = [];
    for (const k of blocked) {
      for (const c of chainsFrom(state, pending)) {
        const after = model.step(c.state, ops[k]!.input, ops[k]!.output);
        if (after !== undefined) moves.push({ ops: [...c.chain, k], state: after });
      }
    }
    return moves;
  };

  // Chains depend only on the state and the pending operations, which many configurations share.
  const chainCache = new Map<string, { from: S; chains: Chain<S>[] }[]>();
  const chainsFrom = (state: S, pending: number[]): Chain<S>[] => {
    const key = `${model.hash(state)}:${pending.join(',')}`;
    const hit = chainCache.get(key)?.find((e) => model.equal(e.from, state));
    if (hit !== undefined) return hit.chains;
    if (chainCache.size >= MAX_CACHED_CHAINS) chainCache.clear();
    const chains = buildChains(state, pending);
    const list = chainCache.get(key);
    if (list === undefined) chainCache.set(key, [{ from: state, chains }]);
    else list.push({ from: state, chains });
    return chains;
  };

  const buildChains = (state: S, pending: number[]): Chain<S>[] => {
    const alone = pending.map((u) => model.step(state, ops[u]!.input, undefined));
    const chains: Chain<S>[] = [];
    let frontier: Chain<S>[] = [];
    pending.forEach((u, j) => {
      const after = alone[j];
      if (after !== undefined && !model.equal(after, state)) frontier.push({ state: after, chain: [u] });
    });
    for (let depth = 1; frontier.length > 0; depth++) {
      chains.push(...frontier);
      if (depth === MAX_CHAIN) break;
      const grown: Chain<S>[] = [];
      for (const f of frontier) {
        pending.forEach((u, j) => {
          if (f.chain.includes(u)) return;
          const after = model.step(f.state, ops[u]!.input, undefined);
          const a = alone[j];
          if (after !== undefined && !model.equal(after, f.state) && (a === undefined || !model.equal(after, a))) grown.push({ state: after, chain: [...f.chain, u] });
        });
      }
      frontier = grown;
    }
    return chains;
  };

  const stack: Frame<S>[] = [];
  let longest: number[] = [];
  let longestDepth = -1;
  let longestStuck: number[] = [];
  let state = model.init();
  let frame: Frame<S> = { moves: directMoves(state), next: 0, chained: false, taken: -1, before: state };
  let steps = 0;
  for (;;) {
    if ((++steps & 0x3ff) === 0 && Date.now() > deadline) return 'timeout';
    if (frame.next === frame.moves.length && !frame.chained) {
      frame.chained = true;
      frame.moves.push(...chainMoves(state));
    }
    if (frame.next < frame.moves.length) {
      const index = frame.next++;
      const move = frame.moves[index]!;
      for (const i of move.ops) flip(i);
      if (seen(move.state)) {
        for (const i of move.ops) flip(i);
        continue;
      }
      if (linearizedKnown === knownCount) return undefined;
      for (const i of move.ops) lift(calls.get(i)!);
      frame.taken = index;
      stack.push(frame);
      state = move.state;
      frame = { moves: directMoves(state), next: 0, chained: false, taken: -1, before: state };
      continue;
    }
    // Nothing more to try here: back up one move (remembering the deepest dead end, for the report).
    if (stack.length > longestDepth) {
      longestDepth = stack.length;
      longest = stack.flatMap((f) => f.moves[f.taken]!.ops);
      longestStuck = waiting(head, unknown);
    }
    const parent = stack.pop();
    if (parent === undefined) {
      return { longest: longest.map((i) => model.describe(ops[i]!)), stuck: longestStuck.map((i) => model.describe(ops[i]!)) };
    }
    const undone = parent.moves[parent.taken]!.ops;
    for (let j = undone.length - 1; j >= 0; j--) {
      unlift(calls.get(undone[j]!)!);
      flip(undone[j]!);
    }
    state = parent.before;
    frame = parent;
  }
}

/** Calls and returns in time order (a call before a return at the same time: they overlap). */
function buildList<I, O>(ops: readonly Operation<I, O>[]): Node {
  const events: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((op, i) => {
    if (!(op.return >= op.call)) throw new Error(`operation ${i} returns before it is called`);
    events.push({ time: op.call, isCall: true, op: i }, { time: op.return, isCall: false, op: i });
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  const calls = new Map<number, Node>();
  let last = head;
  for (const e of events) {
    const node: Node = { op: e.op, isCall: e.isCall, match: undefined, prev: last, next: undefined };
    last.next = node;
    last = node;
    if (e.isCall) calls.set(e.op, node);
    else calls.get(e.op)!.match = node;
  }
  return head;
}

/** Takes a call and its return out of the list. */
function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next !== undefined) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

/** Puts them back (in the reverse order of lift). */
function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== undefined) call.next.prev = call;
}

/** For reports: the known operations that could have gone next, ending with the first that must have. */
function waiting(head: Node, unknown: readonly boolean[]): number[] {
  const out: number[] = [];
  for (let n = head.next; n !== undefined && out.length < 20; n = n.next) {
    if (!n.isCall) {
      out.push(n.op);
      break;
    }
    if (!unknown[n.op]) out.push(n.op);
  }
  return out;
}

/** Every bit of a is set in b. */
function subsetOf(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
