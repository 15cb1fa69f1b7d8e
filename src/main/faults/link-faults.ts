// The faults one directed link can carry, and their validation (for the control API and the
// command line). All zero is a plain relay.
//
// TCP cannot lose bytes, so neither can a userspace proxy on a TCP stream: a segment lost on a
// real network shows up as a retransmission stall (Linux: at least 200 ms) or, if losses go on,
// as a dead connection. That is what "loss" emulates: each chunk is, with lossProbability,
// held back lossSpikeMs more (the bytes behind it wait too, TCP delivers in order), and with
// resetProbability the connection is reset.

export type PartitionMode = 'none' | 'drop' | 'hold';

export interface LinkFaults {
  /** Added one-way delay of every chunk, ms. */
  delayMs: number;
  /** Plus a uniform extra delay in [0, jitterMs) per chunk; order is kept (a chunk never overtakes). */
  jitterMs: number;
  /** Bytes per second the link carries; 0 = unlimited. */
  bandwidthBytesPerSec: number;
  /** Chance per chunk of a retransmission-like stall of lossSpikeMs. */
  lossProbability: number;
  lossSpikeMs: number;
  /** Chance per chunk that the whole connection is reset (both sockets destroyed). */
  resetProbability: number;
  /**
   * 'drop': nothing more arrives; the bytes are discarded, so the stream is broken for good and
   * its connection is reset when the partition heals (as a real one would have timed out).
   * 'hold': nothing is delivered until healed, then everything held arrives (a long stall).
   */
  partition: PartitionMode;
}

export const NO_FAULTS: Readonly<LinkFaults> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  bandwidthBytesPerSec: 0,
  lossProbability: 0,
  lossSpikeMs: 0,
  resetProbability: 0,
  partition: 'none',
});

export class FaultConfigError extends Error {
  override readonly name = 'FaultConfigError';
}

/** True when the link forwards every byte at once. */
export function isClear(f: Readonly<LinkFaults>): boolean {
  return (
    f.delayMs === 0 &&
    f.jitterMs === 0 &&
    f.bandwidthBytesPerSec === 0 &&
    f.lossProbability === 0 &&
    f.resetProbability === 0 &&
    f.partition === 'none'
  );
}

const NUMERIC: Record<Exclude<keyof LinkFaults, 'partition'>, { max: number }> = {
  delayMs: { max: 600_000 },
  jitterMs: { max: 600_000 },
  bandwidthBytesPerSec: { max: 1e12 },
  lossProbability: { max: 1 },
  lossSpikeMs: { max: 600_000 },
  resetProbability: { max: 1 },
};

/**
 * `base` with the fields `update` sets (a JSON object of LinkFaults fields). Throws
 * FaultConfigError on an unknown field or a value out of range.
 */
export function updateFaults(base: Readonly<LinkFaults>, update: unknown): LinkFaults {
  if (typeof update !== 'object' || update === null || Array.isArray(update)) throw new FaultConfigError('faults must be an object');
  const out: LinkFaults = { ...base };
  for (const [key, value] of Object.entries(update)) {
    if (key === 'partition') {
      if (value !== 'none' && value !== 'drop' && value !== 'hold') throw new FaultConfigError(`partition must be none, drop or hold, not ${String(value)}`);
      out.partition = value;
    } else if (key in NUMERIC) {
      const field = key as keyof typeof NUMERIC;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > NUMERIC[field].max) {
        throw new FaultConfigError(`${key} must be a number in [0, ${NUMERIC[field].max}], not ${String(value)}`);
      }
      out[field] = value;
    } else {
      throw new FaultConfigError(`unknown fault ${key} (known: ${Object.keys(NO_FAULTS).join(', ')})`);
    }
  }
  return out;
}
