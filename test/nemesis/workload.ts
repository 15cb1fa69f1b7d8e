// The clients of a nemesis run: each does register operations one at a time (get, put, and
// compare-and-set through Txn on the value or the mod revision) on a few keys, through a member
// its own seeded generator picks, and records every call with its invocation and response time.
// Written values are unique. An operation whose request never left (no connection) is not
// recorded; one without an answer is recorded with its outcome unknown.
import type { SeededRandom } from '../../src/main/faults/random.js';
import { CallFailed, KvClient, type CasGuard } from './kv-client.js';
import type { RegisterOp } from './register-model.js';

export interface WorkloadOptions {
  endpoints: string[];
  keys: string[];
  clients: number;
  opTimeoutMs: number;
}

/** A write the cluster acknowledged, the revision it says the write has, and when it was called and answered. */
export interface AckedWrite {
  key: string;
  value: string;
  revision: number;
  call: number;
  return: number;
  /** The client URL of the member that answered. */
  via: string;
}

export interface WorkloadStats {
  ok: number;
  /** Failed before the request left: no effect. */
  refused: number;
  /** No answer: recorded with an unknown outcome (reads: dropped). */
  unknown: number;
}

export class Workload {
  readonly history: RegisterOp[] = [];
  readonly acked: AckedWrite[] = [];
  readonly stats: WorkloadStats = { ok: 0, refused: 0, unknown: 0 };
  private stopping = false;
  private readonly running: Promise<void>[] = [];
  private readonly started = performance.now();

  constructor(
    private readonly options: WorkloadOptions,
    private readonly random: SeededRandom,
  ) {}

  start(): void {
    for (let c = 0; c < this.options.clients; c++) this.running.push(this.client(c, this.random.fork(`client-${c}`)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Milliseconds since the workload started: the history's clock. */
  now(): number {
    return performance.now() - this.started;
  }

  /** One linearizable read of every key through `endpoint`, recorded like any other (after stop()). */
  async finalReads(endpoint: string, client: number): Promise<void> {
    const kv = new KvClient(endpoint);
    try {
      for (const key of this.options.keys) await this.read(kv, client, key, new Map());
    } finally {
      kv.close();
    }
  }

  private async client(id: number, rnd: SeededRandom): Promise<void> {
    const { endpoints, keys } = this.options;
    const conns = endpoints.map((url) => new KvClient(url));
    // What this client last read of each key: the value and its mod revision, for CAS guards.
    const seen = new Map<string, { value: string | null; modRevision: number }>();
    let home = rnd.int(endpoints.length);
    try {
      for (let seq = 0; !this.stopping; seq++) {
        if (rnd.chance(0.1)) home = rnd.int(endpoints.length);
        const kv = conns[home]!;
        const key = rnd.pick(keys);
        const roll = rnd.next();
        const value = `c${id}-${seq}`;
        let done: boolean;
        if (roll < 0.4) done = await this.read(kv, id, key, seen);
        else if (roll < 0.7) done = await this.write(kv, id, key, value);
        else done = await this.cas(kv, id, key, value, seen.get(key), rnd.chance(0.5));
        // A refused request (member down) would otherwise spin.
        if (!done) await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      for (const c of conns) c.close();
    }
  }

  private async read(kv: KvClient, client: number, key: string, seen: Map<string, { value: string | null; modRevision: number }>): Promise<boolean> {
    const call = this.now();
    try {
      const r = await kv.get(key, this.options.opTimeoutMs);
      this.history.push({ client, input: { kind: 'read', key }, output: { kind: 'read', value: r.value }, call, return: this.now() });
      seen.set(key, { value: r.value, modRevision: r.modRevision });
      this.stats.ok++;
      return true;
    } catch (e) {
      return this.failed(e);
    }
  }

  private async write(kv: KvClient, client: number, key: string, value: string): Promise<boolean> {
    const call = this.now();
    try {
      const revision = await kv.put(key, value, this.options.opTimeoutMs);
      const ret = this.now();
      this.history.push({ client, input: { kind: 'write', key, value }, output: { kind: 'write' }, call, return: ret });
      this.acked.push({ key, value, revision, call, return: ret, via: kv.url });
      this.stats.ok++;
      return true;
    } catch (e) {
      if (e instanceof CallFailed && !e.definite) this.history.push({ client, input: { kind: 'write', key, value }, output: undefined, call, return: Infinity });
      return this.failed(e);
    }
  }

  /** Compares with the value last read, or with its mod revision (0: expects no key). */
  private async cas(kv: KvClient, client: number, key: string, value: string, last: { value: string | null; modRevision: number } | undefined, byRevision: boolean): Promise<boolean> {
    const expected = last?.value ?? null;
    const guard: CasGuard = expected === null || byRevision ? { modRevision: expected === null ? 0 : last!.modRevision } : { value: expected };
    const input = { kind: 'cas' as const, key, expected, value };
    const call = this.now();
    try {
      const r = await kv.cas(key, guard, value, this.options.opTimeoutMs);
      const ret = this.now();
      this.history.push({ client, input, output: { kind: 'cas', succeeded: r.succeeded }, call, return: ret });
      if (r.succeeded) this.acked.push({ key, value, revision: r.revision, call, return: ret, via: kv.url });
      this.stats.ok++;
      return true;
    } catch (e) {
      if (e instanceof CallFailed && !e.definite) this.history.push({ client, input, output: undefined, call, return: Infinity });
      return this.failed(e);
    }
  }

  private failed(e: unknown): boolean {
    if (!(e instanceof CallFailed)) throw e;
    if (e.definite) this.stats.refused++;
    else this.stats.unknown++;
    return false;
  }
}
