// Seeded fuzzing helpers, for the decoders here and for other protocol tests (HTTP JSON gateway,
// WebSocket): a time-boxed loop where every iteration has its own generator (so a failure names
// the seed and iteration that replay it), byte mutators, a hang guard, and a fingerprint of a
// running member's data to compare before and after.
//
//   FUZZ_SEED=n      base seed (default: each test's own)
//   FUZZ_MS=n        time budget per fuzz loop (default: each loop's own, a few seconds)
//   FUZZ_ITERATION=n run only that iteration (to replay a failure)
import { SeededRandom } from '../../src/main/faults/random.js';
import { KvClient } from '../nemesis/kv-client.js';

export interface FuzzOptions {
  seed: number;
  /** Time budget (FUZZ_MS overrides). */
  ms: number;
  /** Stop after this many iterations even if time remains. */
  maxIterations?: number;
}

/**
 * Runs `body` with a fresh generator per iteration until the budget is spent; returns how many
 * iterations ran. A throw is rethrown with the seed and iteration that reproduce it.
 */
export async function fuzzLoop(name: string, options: FuzzOptions, body: (rnd: SeededRandom, iteration: number) => void | Promise<void>): Promise<number> {
  const seed = Number(process.env.FUZZ_SEED ?? options.seed);
  const only = process.env.FUZZ_ITERATION;
  const deadline = Date.now() + Number(process.env.FUZZ_MS ?? options.ms);
  const max = options.maxIterations ?? Infinity;
  let i = only !== undefined ? Number(only) : 0;
  let ran = 0;
  for (; only !== undefined ? ran === 0 : i < max && Date.now() < deadline; i++, ran++) {
    const rnd = new SeededRandom(seed).fork(`${name}#${i}`);
    try {
      await body(rnd, i);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      err.message = `${name}: iteration ${i} failed (replay: FUZZ_SEED=${seed} FUZZ_ITERATION=${i}): ${err.message}`;
      throw err;
    }
  }
  return ran;
}

export function randomBytes(rnd: SeededRandom, maxLength: number): Buffer {
  const b = Buffer.allocUnsafe(rnd.int(maxLength + 1));
  for (let i = 0; i < b.length; i++) b[i] = rnd.int(256);
  return b;
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x3f];

/** A few random edits of `input` (a new buffer): flips, interesting bytes, inserts, deletes, repeats, truncation, splices. */
export function mutate(rnd: SeededRandom, input: Uint8Array, others: readonly Uint8Array[] = []): Buffer {
  let b = Buffer.from(input);
  const edits = rnd.between(1, 4);
  for (let e = 0; e < edits; e++) {
    const at = b.length === 0 ? 0 : rnd.int(b.length);
    switch (rnd.int(8)) {
      case 0:
        if (b.length > 0) b[at]! ^= 1 << rnd.int(8);
        break;
      case 1:
        if (b.length > 0) b[at] = rnd.pick(INTERESTING);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), randomBytes(rnd, 8), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rnd.between(1, 8)))]);
        break;
      case 4: {
        const len = rnd.between(1, 16);
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 5:
        b = b.subarray(0, at);
        break;
      case 6:
        if (others.length > 0) {
          const other = rnd.pick(others);
          b = Buffer.concat([b.subarray(0, at), other.subarray(rnd.int(other.length + 1))]);
        }
        break;
      case 7:
        // A varint-looking run: continuation bits set, which length-prefixed decoders must bound.
        b = Buffer.concat([b.subarray(0, at), Buffer.alloc(rnd.between(1, 11), 0xff), b.subarray(at)]);
        break;
    }
  }
  return b;
}

/** Resolves with `p`, or rejects naming `what` if it takes longer than `ms` (a hang). */
export function noHang<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what} took over ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Runs `f`; an exception that `allowed` does not accept is rethrown with `input` attached (hex). */
export function onlyThrows(f: () => unknown, allowed: (e: unknown) => boolean, input: Uint8Array): void {
  try {
    f();
  } catch (e) {
    if (allowed(e)) return;
    const err = e instanceof Error ? e : new Error(String(e));
    err.message = `${err.message} (input ${Buffer.from(input).toString('hex').slice(0, 400)})`;
    throw err;
  }
}

export interface DataFingerprint {
  revision: number;
  hash: number;
}

/** What a member stores, as etcd's HashKV sees it: compare before and after fuzzing it. */
export async function fingerprint(clientUrl: string): Promise<DataFingerprint> {
  const kv = new KvClient(clientUrl);
  try {
    const { hash, revision } = await kv.hashKV(0, 5000);
    return { revision, hash };
  } finally {
    kv.close();
  }
}
