// Watchers under the nemesis: each watches the workload's key prefix from revision 1 through a
// member its seeded generator picks; when the stream breaks (member killed, restarted), it
// resumes on another member from the revision after the last one it saw. At the end, once the
// cluster has converged, every watcher's events must be, in etcd's words:
//  - ordered and unique: revisions strictly increase (each workload write is one key, one revision);
//  - atomic: the events of one revision arrive in one response;
//  - reliable and resumable: no event missing or changed, across reconnections: the same events
//    as a fresh watcher reading the whole history afterwards.
import { GrpcChannel, grpcMethod, type OpenStream } from '../../src/main/api/grpc/client.js';
import { WatchService } from '../../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../../src/main/api/grpc/framing.js';
import { decode, type WatchResponse } from '../../src/main/api/proto/index.js';
import type { SeededRandom } from '../../src/main/faults/random.js';

const WATCH = grpcMethod(WatchService, 'Watch');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface SeenEvent {
  revision: number;
  key: string;
  /** null for a delete. */
  value: string | null;
  /** Which response (over the watcher's life) carried it. */
  response: number;
}

/** The byte string just after every key that starts with `prefix` (etcd's prefix range end). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]!++;
  return end;
}

class Watcher {
  readonly events: SeenEvent[] = [];
  private responses = 0;
  private stopped = false;
  private stream: OpenStream | undefined;
  private channel: GrpcChannel | undefined;
  private ended: (() => void) | undefined;
  private readonly loop: Promise<void>;
  /** Problems the stream itself reported (a cancel, a compaction). */
  readonly problems: string[] = [];

  constructor(
    readonly name: string,
    private readonly endpoints: readonly string[],
    private readonly prefix: string,
    private readonly rnd: SeededRandom,
    private readonly log: (text: string) => void,
  ) {
    this.loop = this.run();
  }

  get lastRevision(): number {
    return this.events[this.events.length - 1]?.revision ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.cancel();
    this.channel?.destroy();
    this.ended?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const url = this.endpoints[this.rnd.int(this.endpoints.length)]!;
      const from = this.lastRevision + 1;
      try {
        await this.watchOnce(url, from);
        if (!this.stopped) this.log(`${this.name}: stream from ${url} ended; resuming from revision ${this.lastRevision + 1}`);
      } catch (e) {
        if (!this.stopped && attempt++ % 20 === 0) this.log(`${this.name}: ${url}: ${(e as Error).message.split('\n')[0]}`);
      }
      if (!this.stopped) await sleep(100 + this.rnd.int(400));
    }
  }

  /** One stream: resolves when it ends for any reason. */
  private async watchOnce(url: string, startRevision: number): Promise<void> {
    const channel = await GrpcChannel.connect(url);
    this.channel = channel;
    try {
      const done = new Promise<void>((resolve) => (this.ended = resolve));
      this.stream = await channel.stream(WATCH, {
        onMessage: (payload) => this.onResponse(decode(WATCH.response, payload)),
        onEnd: () => this.ended?.(),
      });
      this.stream.write(encodeFrame(WATCH.request, { createRequest: { key: Buffer.from(this.prefix), rangeEnd: prefixEnd(this.prefix), startRevision } }));
      if (this.stopped) this.ended?.();
      await done;
    } finally {
      this.stream = undefined;
      channel.destroy();
    }
  }

  private onResponse(res: WatchResponse): void {
    if (res.canceled) {
      this.problems.push(`${this.name}: watch canceled: ${res.cancelReason || `compacted at ${res.compactRevision}`}`);
      this.stream?.cancel();
      return;
    }
    if (res.events.length === 0) return;
    const response = this.responses++;
    for (const e of res.events) {
      this.events.push({ revision: e.kv?.modRevision ?? 0, key: e.kv?.key.toString() ?? '', value: e.type === 1 ? null : (e.kv?.value.toString() ?? ''), response });
    }
  }
}

export class WatchCheck {
  private readonly watchers: Watcher[] = [];

  constructor(
    private readonly endpoints: readonly string[],
    private readonly prefix: string,
    private readonly count: number,
    private readonly rnd: SeededRandom,
    private readonly log: (text: string) => void,
  ) {}

  get eventCount(): number {
    return this.watchers.reduce((n, w) => n + w.events.length, 0);
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.count; i++) this.watchers.push(new Watcher(`watcher ${i}`, this.endpoints, this.prefix, this.rnd.fork(`watcher-${i}`), this.log));
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop()));
  }

  /**
   * Waits (bounded) for every watcher to reach `revision`, stops them, reads the whole history
   * with a fresh watcher, and returns what is wrong.
   */
  async finish(revision: number): Promise<string[]> {
    if (this.count === 0) return [];
    const deadline = Date.now() + 30000;
    while (this.watchers.some((w) => w.lastRevision < revision) && Date.now() < deadline) await sleep(100);
    await this.stop();
    const failures: string[] = [];
    for (const w of this.watchers) {
      failures.push(...w.problems);
      if (w.lastRevision < revision) failures.push(`${w.name} stuck at revision ${w.lastRevision}, the cluster is at ${revision}`);
    }
    const truth = await this.history(revision);
    if (typeof truth === 'string') return [...failures, truth];
    for (const w of this.watchers) failures.push(...compare(w, truth, revision));
    return failures;
  }

  /** Every event of the prefix up to `revision`, from one stream on a converged member. */
  private async history(revision: number): Promise<SeenEvent[] | string> {
    const reader = new Watcher('reference watcher', [this.endpoints[0]!], this.prefix, this.rnd.fork('reference'), () => undefined);
    const deadline = Date.now() + 30000;
    while (reader.lastRevision < revision && Date.now() < deadline) await sleep(50);
    await reader.stop();
    if (reader.lastRevision < revision) return `the reference watcher read only up to revision ${reader.lastRevision} of ${revision}`;
    return reader.events.filter((e) => e.revision <= revision);
  }
}

function compare(w: Watcher, truth: readonly SeenEvent[], upTo: number): string[] {
  const out: string[] = [];
  const responseOf = new Map<number, number>();
  let previous = 0;
  for (const e of w.events) {
    if (e.revision <= previous) out.push(`${w.name}: revision ${e.revision} (${e.key}) after ${previous}: out of order or repeated`);
    previous = Math.max(previous, e.revision);
    const r = responseOf.get(e.revision);
    if (r !== undefined && r !== e.response) out.push(`${w.name}: revision ${e.revision} split over two responses`);
    responseOf.set(e.revision, e.response);
    if (out.length > 10) return out;
  }
  const mine = w.events.filter((e) => e.revision <= upTo);
  const same = (a: SeenEvent, b: SeenEvent) => a.revision === b.revision && a.key === b.key && a.value === b.value;
  const firstDiff = truth.findIndex((t, i) => mine[i] === undefined || !same(t, mine[i]!));
  if (firstDiff >= 0) {
    const t = truth[firstDiff]!;
    const m = mine[firstDiff];
    out.push(
      `${w.name}: event ${firstDiff} should be revision ${t.revision} ${t.key}=${String(t.value)}, was ${m === undefined ? 'missing' : `revision ${m.revision} ${m.key}=${String(m.value)}`}`,
    );
  } else if (mine.length > truth.length) out.push(`${w.name}: ${mine.length - truth.length} events the history does not have`);
  return out;
}
