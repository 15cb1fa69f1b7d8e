// The main thread's side of Watch. It owns the watch streams' ids (create / cancel decided here, in
// request order, so "created" answers go out at once) and the store's change feed: every revision
// the store writes goes into the shared ring (ring.ts) as one record, with prev_kv when some
// watcher wants it. Worker threads (workers/watch-engine.ts) do the rest: matching, encoding and
// catching up; each owns whole streams. The hub writes the responses they hand back to the gRPC
// streams, acks them to the worker once each stream has taken them (flow control), and reads
// the store's history for watchers that fell further behind than the ring reaches.
//
// Workers start with the first watch stream. When the member replaces its store (a snapshot from
// the leader), the hub stops reading it until the new one is open, then publishes a gap record:
// every watcher needing revisions up to the new store's re-reads them from the new store.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { GrpcCode, GrpcError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Init } from '../api/proto/codec.js';
import type { WatchRequest, WatchResponse } from '../api/proto/watch.js';
import type { ResponseHeader } from '../api/proto/header.js';
import type { Change, KeyRange, MvccStore } from '../../storage/mvcc/index.js';
import { postToWorker, type FromWorker, type ToWorker, type WatchWorkerData, type WireRange } from './protocol.js';
import { RecordKind, recordBytes, writeRecord, type EventBytes } from './record.js';
import { WatchIds } from './registry.js';
import { forEachMessage, forEachSegment, type ArenaOutput } from './response.js';
import { createRing, RingWriter } from './ring.js';
import { spawnWorker, workerModule } from './spawn.js';

export interface WatchHubOptions {
  /** Fan-out worker threads (default: available cores - 1, from 1 to 4). */
  workers?: number;
  /** Ring capacity: records (a power of two) and bytes (defaults 32768 and 32 MiB). */
  ringSlots?: number;
  ringBytes?: number;
  /** etcd's --experimental-watch-progress-notify-interval (default 10 min). */
  progressNotifyIntervalMs?: number;
  /** Responses of a fragment watcher are split from this size on (etcd: --max-request-bytes + 512 KiB). */
  maxResponseBytes?: number;
  /**
   * Response bytes a stream may have queued before its watchers fall behind (default 128 KiB), and
   * over a worker's streams (256 MiB). Like etcd's 128-response channel per stream: under load,
   * watchers fall behind and catch up with one response for many revisions rather than one each.
   */
  streamWindowBytes?: number;
  totalWindowBytes?: number;
}

/** What the hub needs of the member. */
export interface WatchContext {
  clusterId(): bigint;
  readonly memberId: bigint;
  term(): number;
  readonly log?: Pick<Logger, 'warn'>;
}

/** The gRPC side of one watch stream. */
export interface WatchSink {
  /** Queues a response (pre-encoded bytes or a message); false when the stream's buffer is full. */
  write(response: Uint8Array | Init<WatchResponse>): boolean;
  /**
   * Queues responses already framed as gRPC messages (uncompressed), one after another: a worker's
   * responses for this stream in one turn. `done` is called once the bytes are no longer needed (the
   * worker writes its next responses over them). Without it, the hub writes them one by one.
   */
  writeMessages?(messages: Uint8Array, done: () => void): boolean;
  /** Resolves when the stream's buffer has room again; rejects once the call has ended. */
  drained(): Promise<void>;
}

/** History read per request from a worker, at most (etcd's watchBatchMaxRevs is 1000 revisions). */
const HISTORY_LIMITS = { maxRevisions: 1000, maxBytes: 4 * 1024 * 1024, maxScanned: 20_000 };

const STOPPED = new GrpcError(GrpcCode.Unavailable, 'etcdserver: server stopped');

interface FanoutWorker {
  readonly worker: Worker;
  readonly streams: Set<HubStream>;
  /** Flat (stream, bytes) acks to send at the end of this turn. */
  acks: number[];
  exited: boolean;
}

export class WatchHub {
  private readonly options: Required<WatchHubOptions>;
  private readonly streams = new Map<number, HubStream>();
  private readonly workers: FanoutWorker[] = [];
  private ring: RingWriter | undefined;
  private nextStreamId = 1;
  /** Active watchers with prev_kv: while any, published records carry prev_kv. */
  prevKvWatchers = 0;
  private notifyQueued = false;
  private acksQueued = false;
  /** History requests waiting for the store (being replaced). */
  private readonly waitingForStore: { fanout: FanoutWorker; request: Extract<FromWorker, { type: 'history' }> }[] = [];
  private storeOpen = true;
  private closed = false;

  constructor(
    private store: MvccStore,
    private readonly context: WatchContext,
    options: WatchHubOptions = {},
  ) {
    this.options = {
      workers: options.workers ?? Math.max(1, Math.min(4, os.availableParallelism() - 1)),
      ringSlots: options.ringSlots ?? 32768,
      ringBytes: options.ringBytes ?? 32 * 1024 * 1024,
      progressNotifyIntervalMs: options.progressNotifyIntervalMs ?? 10 * 60 * 1000,
      maxResponseBytes: options.maxResponseBytes ?? 2 * 1024 * 1024,
      streamWindowBytes: options.streamWindowBytes ?? 128 * 1024,
      totalWindowBytes: options.totalWindowBytes ?? 256 * 1024 * 1024,
    };
  }

  /** A new watch stream; its requests go to `request`, and `close` ends it. */
  openStream(sink: WatchSink): HubStream {
    if (this.closed) throw STOPPED;
    this.start();
    let fanout = this.workers[0]!;
    for (const w of this.workers) if (w.streams.size < fanout.streams.size) fanout = w;
    while (this.streams.has(this.nextStreamId)) this.nextStreamId = (this.nextStreamId + 1) >>> 0;
    const stream = new HubStream(this, this.nextStreamId, fanout, sink);
    this.nextStreamId = (this.nextStreamId + 1) >>> 0;
    this.streams.set(stream.id, stream);
    fanout.streams.add(stream);
    return stream;
  }

  /** The member is about to close the store and open another (a snapshot from the leader). */
  storeClosing(): void {
    this.storeOpen = false;
    this.store.setChangeListener(undefined);
  }

  /** The new store is open: watchers re-read from it what they have not had. */
  storeOpened(store: MvccStore): void {
    this.store = store;
    this.storeOpen = true;
    if (this.ring === undefined) return;
    store.setChangeListener((change) => this.publish(change));
    this.publishGap(store.currentRevision);
    for (const { fanout, request } of this.waitingForStore.splice(0)) this.readHistory(fanout, request);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.store.setChangeListener(undefined);
    for (const stream of [...this.streams.values()]) stream.fail(STOPPED);
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.exited) return;
        const closed = new Promise<void>((resolve) => w.worker.once('message', (m: FromWorker) => m.type === 'closed' && resolve()));
        postToWorker(w.worker, { type: 'close' });
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
        await w.worker.terminate();
      }),
    );
  }

  // ---- for HubStream

  get currentRevision(): number {
    return this.store.currentRevision;
  }

  get compactedRevision(): number {
    return this.store.compactedRevision;
  }

  header(revision: number): Init<ResponseHeader> {
    return { clusterId: this.context.clusterId(), memberId: this.context.memberId, revision, raftTerm: this.context.term() };
  }

  term(): number {
    return this.context.term();
  }

  send(fanout: FanoutWorker, message: ToWorker): void {
    if (!fanout.exited) postToWorker(fanout.worker, message);
  }

  forget(stream: HubStream): void {
    this.streams.delete(stream.id);
    stream.fanout.streams.delete(stream);
  }

  /** Bytes of a stream's responses its gRPC stream has taken: the worker may send more. */
  ack(stream: HubStream, bytes: number): void {
    const fanout = stream.fanout;
    fanout.acks.push(stream.id, bytes);
    if (this.acksQueued) return;
    this.acksQueued = true;
    queueMicrotask(() => {
      this.acksQueued = false;
      for (const w of this.workers) {
        if (w.acks.length === 0) continue;
        this.send(w, { type: 'acks', acks: w.acks });
        w.acks = [];
      }
    });
  }

  // ---- workers

  private start(): void {
    if (this.ring !== undefined) return;
    this.ring = new RingWriter(createRing(this.options.ringSlots, this.options.ringBytes));
    if (this.storeOpen) this.store.setChangeListener((change) => this.publish(change));
    for (let i = 0; i < this.options.workers; i++) this.workers.push(this.spawn());
  }

  private spawn(): FanoutWorker {
    const ring = this.ring!;
    const data: WatchWorkerData = {
      ring: ring.buffer,
      startSeq: ring.nextSeq,
      startRevision: this.store.currentRevision,
      clusterId: this.context.clusterId(),
      memberId: this.context.memberId,
      maxResponseBytes: this.options.maxResponseBytes,
      progressIntervalMs: this.options.progressNotifyIntervalMs,
      streamWindowBytes: this.options.streamWindowBytes,
      totalWindowBytes: this.options.totalWindowBytes,
    };
    const worker = spawnWorker(workerModule('watch-fanout'), data);
    const fanout: FanoutWorker = { worker, streams: new Set(), acks: [], exited: false };
    worker.on('message', (message: FromWorker) => this.onWorkerMessage(fanout, message));
    worker.on('error', (err) => this.onWorkerLost(fanout, err));
    worker.on('exit', () => this.onWorkerLost(fanout, new Error('watch worker exited')));
    return fanout;
  }

  /** A worker failed: its streams end with an error (clients resume them elsewhere or here), a new one takes its place. */
  private onWorkerLost(fanout: FanoutWorker, err: Error): void {
    if (fanout.exited) return;
    fanout.exited = true;
    const i = this.workers.indexOf(fanout);
    if (this.closed || i < 0) return;
    this.workers[i] = this.spawn();
    const error = new GrpcError(GrpcCode.Unavailable, `etcdserver: watch fan-out failed: ${err.message}`);
    for (const stream of [...fanout.streams]) stream.fail(error);
  }

  private onWorkerMessage(fanout: FanoutWorker, message: FromWorker): void {
    switch (message.type) {
      case 'output':
        this.writeOutput(fanout, message.output);
        return;
      case 'history':
        if (this.storeOpen) this.readHistory(fanout, message);
        else this.waitingForStore.push({ fanout, request: message });
        return;
      case 'closed':
        return;
    }
  }

  private writeOutput(fanout: FanoutWorker, output: ArenaOutput): void {
    const pages = new OutputPages(this, fanout, output.pages);
    forEachSegment(output, (id, messages) => this.streams.get(id)?.write(messages, pages));
    pages.done();
  }

  // ---- the store

  private publish(change: Change): void {
    try {
      this.publishEvents(change);
    } catch (e) {
      // The write happened and must not fail for a watch problem: watchers read it from the history.
      this.context.log?.warn({ err: (e as Error).message, revision: change.revision }, 'watch: cannot publish a revision; watchers will read it from the history');
      this.publishGap(change.revision);
    }
  }

  private publishEvents(change: Change): void {
    const ring = this.ring!;
    const withPrev = this.prevKvWatchers > 0;
    const events: EventBytes[] = change.events.map((e) => ({
      type: e.type,
      kv: e.kv,
      prev: withPrev ? this.store.prevKv(e.key, e.revision) : undefined,
    }));
    const size = recordBytes(events);
    if (size > ring.maxRecordBytes) return this.publishGap(change.revision);
    const offset = ring.reserve(size);
    writeRecord(ring.data, offset, RecordKind.Events, change.revision, this.context.term(), withPrev, events);
    ring.publish(change.revision, RecordKind.Events);
    this.notifyWorkers();
  }

  /** Revisions up to `revision` are not in the ring: watchers needing them read the history. */
  private publishGap(revision: number): void {
    const ring = this.ring!;
    const offset = ring.reserve(recordBytes([]));
    writeRecord(ring.data, offset, RecordKind.Gap, revision, this.context.term(), false, []);
    ring.publish(revision, RecordKind.Gap);
    this.notifyWorkers();
  }

  /** One wake-up for every record published in this synchronous stretch (an applied batch). */
  private notifyWorkers(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      this.ring!.notify();
    });
  }

  private readHistory(fanout: FanoutWorker, request: Extract<FromWorker, { type: 'history' }>): void {
    const store = this.store;
    const compactRevision = store.compactedRevision;
    const batch = store.events(Math.max(request.from, compactRevision, 1), request.ranges.map(keyRangeOf), HISTORY_LIMITS);
    const term = this.context.term();
    const groups: { revision: number; events: EventBytes[] }[] = [];
    for (const e of batch.events) {
      let group = groups[groups.length - 1];
      if (group?.revision !== e.revision) groups.push((group = { revision: e.revision, events: [] }));
      group.events.push({ type: e.type, kv: e.kv, prev: request.prevKv ? store.prevKv(e.key, e.revision) : undefined });
    }
    let size = 0;
    for (const g of groups) size += recordBytes(g.events);
    const records = new Uint8Array(size);
    let at = 0;
    for (const g of groups) at = writeRecord(records, at, RecordKind.Events, g.revision, term, request.prevKv, g.events);
    this.send(fanout, { type: 'history', id: request.id, records: records.buffer, through: batch.through, compactRevision });
  }
}

/** The pages of one worker output: back to the worker once every write of them is done, unless a sink kept views of them. */
class OutputPages {
  /** Writes not done yet, and one for the hub while it hands the output out. */
  private pending = 1;
  kept = false;
  readonly done = (): void => {
    if (--this.pending === 0 && !this.kept) this.hub.send(this.fanout, { type: 'pages', pages: this.pages });
  };

  constructor(
    private readonly hub: WatchHub,
    private readonly fanout: FanoutWorker,
    private readonly pages: ArrayBuffer[],
  ) {}

  writing(): void {
    this.pending++;
  }
}

function keyRangeOf(r: WireRange): KeyRange {
  const key = Buffer.from(r.key, 'latin1');
  if (r.end === undefined) return { key };
  return { key, rangeEnd: r.end === '' ? Buffer.of(0) : Buffer.from(r.end, 'latin1') };
}

/** One gRPC watch stream as the hub serves it. */
export class HubStream {
  private readonly ids = new WatchIds();
  /** Response bytes written to the gRPC stream and not acked to the worker yet. */
  private unacked = 0;
  /** A write found the gRPC stream's buffer full: acks wait for it to drain. */
  private blocked = false;
  private draining = false;
  private failure: GrpcError | undefined;
  private interrupt: ((e: GrpcError) => void) | undefined;
  private closed = false;

  constructor(
    private readonly hub: WatchHub,
    readonly id: number,
    readonly fanout: FanoutWorker,
    private readonly sink: WatchSink,
  ) {}

  /** Handles one client request, as etcd's recvLoop does. */
  request(req: WatchRequest): void {
    if (this.closed) return;
    const hub = this.hub;
    switch (req.requestUnion) {
      case 'createRequest': {
        const revision = hub.currentRevision;
        const outcome = this.ids.create(req.createRequest, revision);
        if (!outcome.ok) {
          this.sink.write({ header: hub.header(revision), watchId: -1, created: true, canceled: true, cancelReason: outcome.reason });
          return;
        }
        const spec = outcome.spec;
        if (spec.prevKv) hub.prevKvWatchers++;
        this.sink.write({ header: hub.header(revision), watchId: spec.watchId, created: true });
        hub.send(this.fanout, { type: 'create', stream: this.id, ...spec, currentRevision: revision, compactRevision: hub.compactedRevision });
        return;
      }
      case 'cancelRequest': {
        const watchId = req.cancelRequest.watchId;
        const prevKv = this.ids.cancel(watchId);
        if (prevKv === undefined) return; // etcd ignores a cancel of an unknown id
        if (prevKv) hub.prevKvWatchers--;
        hub.send(this.fanout, { type: 'cancel', stream: this.id, watchId, revision: hub.currentRevision, term: hub.term() });
        return;
      }
      case 'progressRequest':
        hub.send(this.fanout, { type: 'progress', stream: this.id, revision: hub.currentRevision, term: hub.term() });
        return;
      default:
        return; // etcd ignores an empty request
    }
  }

  /** Awaits `p`, unless the hub ends the stream first (then rejects with the reason). */
  guard<T>(p: Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.interrupt = reject;
      p.then(resolve, reject);
    });
  }

  /** The hub ends the stream: the handler's guarded wait rejects with `error`. */
  fail(error: GrpcError): void {
    this.failure ??= error;
    this.interrupt?.(error);
    this.close();
  }

  /** The call ended: its watchers go. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.prevKvWatchers -= this.ids.prevKvCount();
    this.hub.forget(this);
    this.hub.send(this.fanout, { type: 'close-stream', stream: this.id });
  }

  // ---- for the hub: a worker's responses

  /** Writes a worker's responses for this stream of one turn (gRPC messages); acks them now, or once the stream has room again. */
  write(messages: Buffer, pages: OutputPages): void {
    const sink = this.sink;
    if (sink.writeMessages !== undefined) {
      pages.writing();
      if (!sink.writeMessages(messages, pages.done)) this.blocked = true;
    } else {
      pages.kept = true; // the sink may keep views of the responses
      forEachMessage(messages, (response) => {
        if (!sink.write(response)) this.blocked = true;
      });
    }
    this.unacked += messages.length;
    this.wrote();
  }

  private wrote(): void {
    if (this.draining) return;
    if (!this.blocked) return this.ackAll();
    this.draining = true;
    this.sink.drained().then(
      () => {
        this.draining = false;
        this.blocked = false;
        this.ackAll();
      },
      () => undefined, // the call ended; close() tells the worker
    );
  }

  private ackAll(): void {
    if (this.closed || this.unacked === 0) return;
    this.hub.ack(this, this.unacked);
    this.unacked = 0;
  }
}
