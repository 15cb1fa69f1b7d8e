// One direction of one proxied connection: chunks read from `src` are written to `dst` when
// their link's faults say so. Delivery times never go backwards (TCP keeps order), so a chunk
// with less jitter waits for the one before it.
//
// Bound: at most HIGH_WATER_BYTES wait here; past it the source socket is paused (TCP pushes back
// on the sender) until the queue drains below LOW_WATER_BYTES. A destination that does not keep
// up (write() returned false) stops delivery until it drains.
import type net from 'node:net';
import type { LinkFaults } from './link-faults.js';
import type { SeededRandom } from './random.js';

const HIGH_WATER_BYTES = 4 << 20;
const LOW_WATER_BYTES = 1 << 20;
/** Timers fire late, never early; a chunk due within this is sent with the one that woke us. */
const DUE_SLACK_MS = 1;

export interface PipeCounters {
  forwardedBytes: number;
  droppedBytes: number;
}

export interface PipeContext {
  /** The link's faults now (looked up per chunk: they change while the connection runs). */
  faults(): Readonly<LinkFaults>;
  readonly random: SeededRandom;
  counters(): PipeCounters;
  /** Reset the whole connection (both sockets). */
  reset(reason: string): void;
}

interface Pending {
  chunk: Buffer;
  dueAt: number;
}

export class Pipe {
  private queue: Pending[] = [];
  private head = 0;
  private queuedBytes = 0;
  private lastDueAt = 0;
  /** When the emulated link has finished sending what it was given (bandwidth limit). */
  private linkFreeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private sourcePaused = false;
  private waitingForDrain = false;
  /** Bytes were discarded: the stream is broken and nothing after them may be delivered. */
  private broken = false;
  /** The source sent FIN: pass it on once everything before it is delivered. */
  private finishing = false;
  private closed = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly ctx: PipeContext,
  ) {
    dst.on('drain', () => {
      if (!this.waitingForDrain) return;
      this.waitingForDrain = false;
      this.deliver();
    });
  }

  /** Whether bytes were discarded on this pipe (its connection must be reset once the partition heals). */
  get isBroken(): boolean {
    return this.broken;
  }

  push(chunk: Buffer): void {
    if (this.closed) return;
    const f = this.ctx.faults();
    if (this.broken || f.partition === 'drop') return this.drop(chunk.length);
    if (this.ctx.random.chance(f.resetProbability)) return this.ctx.reset('random reset');
    const now = performance.now();
    let at = now;
    if (f.bandwidthBytesPerSec > 0) {
      this.linkFreeAt = Math.max(now, this.linkFreeAt) + (chunk.length * 1000) / f.bandwidthBytesPerSec;
      at = this.linkFreeAt;
    }
    at += f.delayMs;
    if (f.jitterMs > 0) at += this.ctx.random.next() * f.jitterMs;
    if (this.ctx.random.chance(f.lossProbability)) at += f.lossSpikeMs;
    this.lastDueAt = Math.max(at, this.lastDueAt);
    this.queue.push({ chunk, dueAt: this.lastDueAt });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER_BYTES && !this.sourcePaused) {
      this.sourcePaused = true;
      this.src.pause();
    }
    this.deliver();
  }

  /** The link's faults changed: drop what a new 'drop' partition catches, deliver what a heal frees. */
  faultsChanged(): void {
    if (this.closed) return;
    if (this.ctx.faults().partition === 'drop' && this.queuedBytes > 0) {
      this.drop(this.queuedBytes);
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
      this.resumeSource();
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.deliver();
  }

  /** The source ended (or closed): deliver what is queued, then end the destination. */
  finish(): void {
    this.finishing = true;
    this.deliver();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private deliver(): void {
    if (this.closed || this.waitingForDrain || this.timer !== undefined) return;
    if (this.ctx.faults().partition !== 'none') return; // 'hold' waits for faultsChanged()
    const now = performance.now();
    const counters = this.ctx.counters();
    while (this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      if (next.dueAt > now + DUE_SLACK_MS) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.deliver();
        }, next.dueAt - now);
        break;
      }
      this.head++;
      this.queuedBytes -= next.chunk.length;
      counters.forwardedBytes += next.chunk.length;
      if (!this.dst.write(next.chunk)) {
        this.waitingForDrain = true;
        break;
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (this.finishing && !this.broken && !this.waitingForDrain) {
        this.closed = true;
        this.dst.end();
        return;
      }
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queuedBytes < LOW_WATER_BYTES) this.resumeSource();
  }

  private resumeSource(): void {
    if (!this.sourcePaused) return;
    this.sourcePaused = false;
    this.src.resume();
  }

  private drop(bytes: number): void {
    this.broken = true;
    this.ctx.counters().droppedBytes += bytes;
  }
}
