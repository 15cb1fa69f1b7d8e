// Keys for the load: `prefix` + a decimal index zero-padded to `size` digits, from a key space of
// `spaceSize` indices, either in order or at random. Threads interleave their operation numbers
// (thread t takes t, t + T, t + 2T, ...) so sequential keys are disjoint across threads.

import type { KeyOptions } from './flags.js';

const ZERO = 0x30;

export class KeyGenerator {
  /** Reused for every operation: callers encode the keys before asking for the next ones. */
  private readonly scratch: Buffer[];
  /** Digits of the largest index. */
  private readonly width: number;

  constructor(
    private readonly options: KeyOptions,
    /** Keys per operation (txn-put puts several distinct keys at once). */
    perOperation: number,
    private readonly thread: number,
    private readonly threads: number,
  ) {
    this.width = String(options.spaceSize - 1).length;
    this.scratch = Array.from({ length: perOperation }, () => {
      const key = Buffer.alloc(Buffer.byteLength(options.prefix) + options.size, ZERO);
      key.write(options.prefix);
      return key;
    });
  }

  /** The keys of this thread's operation number `seq`: consecutive indices, so distinct. */
  keys(seq: number): readonly Buffer[] {
    const { spaceSize, sequential } = this.options;
    const n = this.scratch.length;
    const first = sequential ? ((this.thread + seq * this.threads) * n) % spaceSize : Math.floor(Math.random() * spaceSize);
    for (let i = 0; i < n; i++) writeIndex(this.scratch[i]!, (first + i) % spaceSize, this.width);
    return this.scratch;
  }

  key(seq: number): Buffer {
    return this.keys(seq)[0]!;
  }
}

/**
 * Writes `index` as the key's trailing `width` digits, zero-padded. Indices are below the key
 * space size, so only those digits ever change; the padding in front stays zero.
 */
function writeIndex(key: Buffer, index: number, width: number): void {
  let rest = index;
  for (let at = key.length - 1, stop = key.length - width; at >= stop; at--) {
    key[at] = ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

