// Clients waiting on this member: for the outcome of a proposal, or for the applied index to
// reach a read index. One sweep timer enforces deadlines instead of a timer per request.
import type { GrpcError } from '../errors.js';

interface Waiter<T> {
  deadline: number;
  payload: unknown;
  resolve: (value: T) => void;
  reject: (err: GrpcError) => void;
}

/**
 * Proposal ids start at the start time in milliseconds × 1024 (as etcd's request ids carry a
 * timestamp): entries of an earlier incarnation of this member may still be on their way through
 * the log after a restart, and the applier trusts the waiting request of a matching id instead
 * of decoding the entry, so ids must never repeat across restarts. They would only if a member
 * averaged more than 1,024 proposals per millisecond of its uptime; a float64 holds them exactly
 * until the year 2248.
 */
const IDS_PER_MS = 1024;

/**
 * Waiters keyed by proposal id, in the order they were registered (so deadlines are ordered
 * too), each with what it proposed.
 */
export class ProposalWaiters<T, P> {
  private nextId = Date.now() * IDS_PER_MS;
  private readonly waiting = new Map<number, Waiter<T>>();
  /** Proposals given up (timed out, or the member stopped), for metrics. */
  failed = 0;

  constructor(private readonly timeoutMs: number) {}

  register(payload: P): { id: number; done: Promise<T> } {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { deadline: Date.now() + this.timeoutMs, payload, resolve, reject });
    });
    return { id, done };
  }

  /** What waiter `id` proposed, while it waits. */
  payload(id: number): P | undefined {
    return this.waiting.get(id)?.payload as P | undefined;
  }

  resolve(id: number, value: T): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    w.resolve(value);
  }

  reject(id: number, err: GrpcError): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    w.reject(err);
  }

  /** Fails every waiter whose deadline passed. */
  expire(now: number, err: GrpcError): void {
    for (const [id, w] of this.waiting) {
      if (w.deadline > now) break;
      this.waiting.delete(id);
      this.failed++;
      w.reject(err);
    }
  }

  failAll(err: GrpcError): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.failed += this.waiting.size;
    this.waiting.clear();
  }

  /** Proposals waiting for their outcome. */
  get pending(): number {
    return this.waiting.size;
  }
}

/** Reads waiting for the applied index to reach their read index. */
export class AppliedWaiters {
  private waiting: { index: number; deadline: number; resolve: () => void; reject: (e: GrpcError) => void }[] = [];

  constructor(private readonly timeoutMs: number) {}

  wait(index: number, applied: number): Promise<void> {
    if (index <= applied) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ index, deadline: Date.now() + this.timeoutMs, resolve, reject });
    });
  }

  applied(index: number): void {
    if (this.waiting.length === 0) return;
    const still = [];
    for (const w of this.waiting) {
      if (w.index <= index) w.resolve();
      else still.push(w);
    }
    this.waiting = still;
  }

  expire(now: number, err: GrpcError): void {
    if (this.waiting.length === 0) return;
    this.waiting = this.waiting.filter((w) => {
      if (w.deadline > now) return true;
      w.reject(err);
      return false;
    });
  }

  failAll(err: GrpcError): void {
    for (const w of this.waiting) w.reject(err);
    this.waiting = [];
  }
}
