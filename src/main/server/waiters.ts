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
 * Waiters keyed by proposal id, in the order they were registered (so deadlines are ordered
 * too), each with what it proposed.
 */
export class ProposalWaiters<T, P> {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter<T>>();

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
      w.reject(err);
    }
  }

  failAll(err: GrpcError): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
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
