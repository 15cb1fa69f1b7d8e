// The bounded window of MsgApp messages in flight to one follower: a ring buffer of the
// last entry index each message carried. When it is full, replication to that follower
// pauses until acknowledgements free slots.
import { RaftInvariantViolation } from './errors.js';

export class Inflights {
  private start = 0;
  private count = 0;
  private readonly buffer: Float64Array;

  constructor(readonly capacity: number) {
    this.buffer = new Float64Array(capacity);
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  get size(): number {
    return this.count;
  }

  /** Records a message whose last entry is at `lastIndex`; indexes must increase. */
  add(lastIndex: number): void {
    if (this.full) throw new RaftInvariantViolation('add to a full inflight window');
    if (this.count > 0 && lastIndex <= this.at(this.count - 1)) {
      throw new RaftInvariantViolation(`inflight index ${lastIndex} does not increase`);
    }
    this.buffer[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message: a heartbeat response shows the follower is alive, so let one more through. */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.buffer[this.start]!);
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }

  private at(i: number): number {
    return this.buffer[(this.start + i) % this.capacity]!;
  }
}
