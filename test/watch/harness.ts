// A WatchHub on a real MVCC store and real worker threads, without gRPC or Raft: writes go straight
// to the store, and each stream's sink decodes what the hub writes to it. A sink can stop taking
// responses (as a client that stops reading), keeping them queued until it resumes.
import { decode, encode, type Init } from '../../src/main/api/proto/codec.js';
import { WatchResponseCodec, type WatchCreateRequest, type WatchResponse } from '../../src/main/api/proto/watch.js';
import { WatchHub, type HubStream, type WatchHubOptions, type WatchSink } from '../../src/main/watch/hub.js';
import { TempEnv } from '../storage/helpers.js';

export const CLUSTER_ID = 0x1234n;
export const MEMBER_ID = 0x5678n;

export class Harness {
  readonly env = new TempEnv(true);
  readonly hub: WatchHub;
  term = 1;

  constructor(options: WatchHubOptions = {}) {
    this.hub = new WatchHub(this.env.store, { clusterId: () => CLUSTER_ID, memberId: MEMBER_ID, term: () => this.term }, { workers: 1, ...options });
  }

  get store() {
    return this.env.store;
  }

  open(): TestStream {
    return new TestStream(this.hub);
  }

  async dispose(): Promise<void> {
    await this.hub.close();
    await this.env.dispose();
  }
}

/** What a test reads of a response: events as compact strings "PUT k=v@mod" / "DELETE k@mod". */
export interface Seen {
  watchId: number;
  revision: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: string[];
}

export function describeEvent(e: WatchResponse['events'][number], withPrev = false): string {
  const kv = e.kv!;
  const prev = withPrev && e.prevKv !== undefined ? ` prev=${e.prevKv.value.toString()}@${e.prevKv.modRevision}` : '';
  return e.type === 1 ? `DELETE ${kv.key.toString()}@${kv.modRevision}${prev}` : `PUT ${kv.key.toString()}=${kv.value.toString()}@${kv.modRevision}${prev}`;
}

export class TestStream implements WatchSink {
  readonly responses: WatchResponse[] = [];
  /** Responses written while the client was "not reading". */
  private held: WatchResponse[] = [];
  private reading = true;
  private drainWaiters: (() => void)[] = [];
  private arrivals: (() => void)[] = [];
  readonly hubStream: HubStream;
  withPrev = false;

  constructor(hub: WatchHub) {
    this.hubStream = hub.openStream(this);
  }

  write(response: Uint8Array | Init<WatchResponse>): boolean {
    const r = response instanceof Uint8Array ? decode(WatchResponseCodec, Buffer.from(response)) : decode(WatchResponseCodec, encodeOnce(response));
    if (!this.reading) {
      this.held.push(r);
      return false;
    }
    this.responses.push(r);
    for (const a of this.arrivals.splice(0)) a();
    return true;
  }

  drained(): Promise<void> {
    if (this.reading) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  stopReading(): void {
    this.reading = false;
  }

  resumeReading(): void {
    this.reading = true;
    this.responses.push(...this.held);
    this.held = [];
    for (const d of this.drainWaiters.splice(0)) d();
    for (const a of this.arrivals.splice(0)) a();
  }

  create(req: Partial<WatchCreateRequest>): void {
    this.hubStream.request({
      requestUnion: 'createRequest',
      createRequest: { key: Buffer.alloc(0), rangeEnd: Buffer.alloc(0), startRevision: 0, progressNotify: false, filters: [], prevKv: false, watchId: 0, fragment: false, ...req },
    });
  }

  cancel(watchId: number): void {
    this.hubStream.request({ requestUnion: 'cancelRequest', cancelRequest: { watchId } });
  }

  progress(): void {
    this.hubStream.request({ requestUnion: 'progressRequest', progressRequest: {} });
  }

  close(): void {
    this.hubStream.close();
  }

  seen(): Seen[] {
    return this.responses.map((r) => ({
      watchId: r.watchId,
      revision: r.header?.revision ?? 0,
      created: r.created,
      canceled: r.canceled,
      compactRevision: r.compactRevision,
      cancelReason: r.cancelReason,
      fragment: r.fragment,
      events: r.events.map((e) => describeEvent(e, this.withPrev)),
    }));
  }

  /** Every event delivered to watchId, in order. */
  events(watchId: number): string[] {
    return this.responses.filter((r) => r.watchId === watchId).flatMap((r) => r.events.map((e) => describeEvent(e, this.withPrev)));
  }

  /** Resolves once `done` holds for what arrived (checked on every arrival), or rejects after timeoutMs. */
  async until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.seen().slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.arrivals.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

function encodeOnce(m: Init<WatchResponse>): Buffer {
  return Buffer.from(encode(WatchResponseCodec, m));
}
