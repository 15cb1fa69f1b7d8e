// The watch fan-out of one worker thread: its share of the watch streams and their watchers.
//
// It reads the shared ring of committed revisions (main/watch/ring.ts) in order. A watcher is
// either LIVE: it has every event below the ring cursor and gets each new revision from the ring as
// it is read (one WatchResponse per revision, as etcd's synced watchers do); or BEHIND: it still
// needs revisions from `nextRev` on, and catches up in batches (one WatchResponse per batch, up to
// 1000 revisions, as etcd's unsynced watchers do): from the ring when the ring still holds
// every revision from nextRev on, otherwise from the store's history, which the main thread reads
// for it (one request in flight per worker). It becomes live again once nextRev passes the cursor.
// Every delivery moves nextRev past the revisions delivered, so nothing is sent twice and nothing
// skipped, whichever way a revision arrives.
//
// Flow control: responses go to the main thread once per turn (OutputArena: a few pages, each
// stream's responses together, so one write per stream), and the main thread acks each stream's
// bytes once its gRPC stream has taken them, and hands the pages back once they are sent. A stream
// with too many bytes unacked (128 KiB by default, about etcd's 128 responses per stream) takes
// nothing more: its watchers that an event concerns fall behind, and catch up when the acks come
// (in larger batches). So a slow client never holds up the ring, the store or other streams, and a
// busy one gets fewer, larger responses.
import type { FromWorker, ToWorker, WatchWorkerData, WireRange } from '../main/watch/protocol.js';
import { RecordKind, readRecord, readRecords, type RevisionRecord } from '../main/watch/record.js';
import { HeaderCache, OutputArena, eventField, fragmentEnds, varintBytes } from '../main/watch/response.js';
import { RingReader } from '../main/watch/ring.js';
import { WatcherIndex } from '../main/watch/watcher-index.js';
import { EventType } from '../storage/mvcc/events.js';

/** etcd's watchBatchMaxRevs: a catch-up response carries the events of at most this many revisions. */
const CATCH_UP_MAX_REVISIONS = 1000;
/** Ring records read per turn before messages (acks, requests) get their turn. */
const RECORDS_PER_TURN = 256;
/** etcd's clientv3.InvalidWatchID: the watch_id of a response to a WatchProgressRequest. */
const ALL_WATCHERS = -1;

const enum State {
  Live,
  Behind,
  /** In the history request in flight. */
  Fetching,
  Gone,
}

class Stream {
  readonly watchers = new Map<number, Watcher>();
  /** Watchers in state Behind. */
  readonly behind = new Set<Watcher>();
  fetching = 0;
  /** Bytes handed to the main thread and not acked yet. */
  unacked = 0;
  /** WatchProgressRequests to answer, once every watcher has everything up to progressRevision. */
  progressWanted = 0;
  progressRevision = 0;
  progressTimer: NodeJS.Timeout | undefined;
  /** Set by a catch-up pass: the stream's budget ran out before this revision. */
  stoppedBefore = 0;
  budget = 0;

  constructor(readonly id: number) {}
}

class Watcher {
  state = State.Live;
  groupKey: string | undefined = undefined;
  /** Created with a start at or below the store's revision then: caught up (in one batch) once the cursor reaches that revision. */
  syncFloor = 0;
  /** No events sent since the last progress tick (etcd's progress[id]). */
  quiet = true;
  /** Live loop scratch: the ring record last matched, and the indexes of its events taken. */
  mark = -1;
  readonly picked: number[] = [];
  pickedCount = 0;
  /** Catch-up pass scratch: event fields gathered, and the revision this watcher stopped before (0: none). */
  readonly batch: Buffer[] = [];
  stoppedBefore = 0;

  constructor(
    readonly stream: Stream,
    readonly id: number,
    readonly range: WireRange,
    public nextRev: number,
    readonly noPut: boolean,
    readonly noDelete: boolean,
    readonly prevKv: boolean,
    readonly fragment: boolean,
    readonly progressNotify: boolean,
  ) {}

  takes(type: number): boolean {
    return type === EventType.Put ? !this.noPut : !this.noDelete;
  }
}

/** The event fields of one record, encoded on first use and shared by every watcher. */
class EncodedRecord {
  private readonly plain: (Buffer | undefined)[] = [];
  private readonly withPrev: (Buffer | undefined)[] = [];

  constructor(readonly record: RevisionRecord) {}

  field(i: number, prevKv: boolean): Buffer {
    const ev = this.record.events[i]!;
    if (prevKv && ev.prev !== undefined) return (this.withPrev[i] ??= eventField(ev.type, ev.kv, ev.prev));
    return (this.plain[i] ??= eventField(ev.type, ev.kv, undefined));
  }
}

export interface EngineHost {
  send(message: FromWorker): void;
}

export class WatchEngine {
  private readonly reader: RingReader;
  private readonly ringStart: number;
  /** The next ring record to read. */
  private cursor: number;
  /** The revision of the last record read: live watchers have every event up to it. */
  private cursorRev: number;
  /** The newest gap record read (revisions up to it may be missing from the ring), and the newest record without prev_kv. */
  private lastGapRev = 0;
  private lastWithoutPrevRev = 0;
  /** The store's compacted revision as last heard: like etcd, a watcher needing revisions below it is canceled, ring or not. */
  private compactRev = 0;
  private readonly live = new WatcherIndex<Watcher>();
  private readonly streams = new Map<number, Stream>();
  private readonly out = new OutputArena();
  /** deliverLive's scratch: the event fields of one watcher's response. */
  private readonly fields: Buffer[] = [];
  private readonly headers: HeaderCache;
  private term = 0;
  private totalUnacked = 0;
  private history: { id: number; watchers: Watcher[] } | undefined;
  private nextHistoryId = 1;
  private scheduled = false;
  private waiting = false;
  private closed = false;

  constructor(
    private readonly config: WatchWorkerData,
    private readonly host: EngineHost,
  ) {
    this.reader = new RingReader(config.ring);
    this.ringStart = config.startSeq;
    this.cursor = config.startSeq;
    this.cursorRev = config.startRevision;
    this.headers = new HeaderCache(config.clusterId, config.memberId);
  }

  start(): void {
    this.schedule();
  }

  close(): void {
    this.closed = true;
    for (const stream of this.streams.values()) clearInterval(stream.progressTimer);
    this.streams.clear();
  }

  handle(message: ToWorker): void {
    switch (message.type) {
      case 'create':
        this.create(message);
        break;
      case 'cancel': {
        const w = this.streams.get(message.stream)?.watchers.get(message.watchId);
        if (w !== undefined) this.remove(w);
        // etcd answers a cancel of a watcher it dropped after a compaction too.
        this.term = Math.max(this.term, message.term);
        const bytes = this.out.control(message.stream, this.headers.get(message.revision, this.term), message.watchId, true);
        this.sent(this.streams.get(message.stream), bytes);
        break;
      }
      case 'progress': {
        const stream = this.stream(message.stream);
        stream.progressWanted++;
        stream.progressRevision = Math.max(stream.progressRevision, message.revision);
        this.term = Math.max(this.term, message.term);
        break;
      }
      case 'close-stream':
        this.closeStream(message.stream);
        break;
      case 'acks':
        for (let i = 0; i < message.acks.length; i += 2) {
          const stream = this.streams.get(message.acks[i]!);
          if (stream === undefined) continue;
          stream.unacked -= message.acks[i + 1]!;
          this.totalUnacked -= message.acks[i + 1]!;
        }
        break;
      case 'history':
        this.onHistory(message);
        break;
      case 'pages':
        for (const page of message.pages) this.out.recycle(page);
        return;
      case 'close':
        this.close();
        return;
    }
    this.schedule();
  }

  // ---- one turn: the ring, catch-ups, progress answers, then the output goes

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    if (this.closed) return;
    const more = this.readRing();
    const replayed = this.catchUp();
    this.answerProgressRequests();
    this.flush();
    if (more || replayed) this.schedule();
    else this.waitForRecords();
  }

  private waitForRecords(): void {
    if (this.waiting || this.closed) return;
    const seen = this.reader.notifyCount();
    if (this.reader.head(this.cursor) > this.cursor) return this.schedule();
    this.waiting = true;
    void this.reader.waitAsync(seen).then(() => {
      this.waiting = false;
      this.schedule();
    });
  }

  private flush(): void {
    if (this.out.length > 0) this.host.send({ type: 'output', output: this.out.take() });
  }

  // ---- the live loop

  /** Reads up to RECORDS_PER_TURN records; true if more are waiting. */
  private readRing(): boolean {
    for (let n = 0; n < RECORDS_PER_TURN; n++) {
      if (this.cursor >= this.reader.head(this.cursor)) return false;
      const record = this.reader.read(this.cursor);
      if (record === undefined) this.lapped();
      else this.deliverLive(record.seq, readRecord(record.bytes));
    }
    return true;
  }

  /** The writer overwrote records before this worker read them: every live watcher falls behind, and reading resumes at the newest record. */
  private lapped(): void {
    const firstMissing = this.cursorRev + 1;
    this.live.forEach((w) => this.fallBehind(w, firstMissing));
    for (;;) {
      const head = this.reader.head(this.cursor);
      const revision = this.reader.revisionAt(head - 1);
      if (revision === undefined) continue;
      this.cursor = head;
      this.cursorRev = revision;
      // Revisions up to here are missing from what this worker read.
      this.lastGapRev = revision;
      return;
    }
  }

  private deliverLive(seq: number, record: RevisionRecord): void {
    this.term = Math.max(this.term, record.term);
    const firstUnread = this.cursorRev + 1;
    this.cursor = seq + 1;
    this.cursorRev = record.revision;
    if (record.kind === RecordKind.Gap) {
      this.lastGapRev = record.revision;
      this.live.forEach((w) => {
        if (Math.max(w.nextRev, firstUnread) <= record.revision) this.fallBehind(w, firstUnread);
      });
      return;
    }
    if (!record.withPrev) this.lastWithoutPrevRev = record.revision;
    const touched: Watcher[] = [];
    const events = record.events;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      this.live.forEachMatch(ev.keyString, (w) => {
        if (record.revision < w.nextRev || !w.takes(ev.type)) return;
        if (w.mark !== seq) {
          if (this.full(w.stream) || (w.prevKv && !record.withPrev)) {
            this.fallBehind(w, firstUnread);
            return;
          }
          w.mark = seq;
          w.pickedCount = 0;
          touched.push(w);
        }
        w.picked[w.pickedCount++] = i;
      });
    }
    if (touched.length === 0) return;
    const encoded = new EncodedRecord(record);
    const header = this.headers.get(record.revision, record.term);
    const fields = this.fields;
    for (const w of touched) {
      const n = w.pickedCount;
      for (let k = 0; k < n; k++) fields[k] = encoded.field(w.picked[k]!, w.prevKv);
      this.emitEvents(w, header, fields, n);
      w.nextRev = record.revision + 1;
    }
    if (fields.length > 64) fields.length = 0; // a record of many events: let its fields go
  }

  private fallBehind(w: Watcher, firstMissing: number): void {
    this.live.delete(w);
    w.nextRev = Math.max(w.nextRev, firstMissing);
    w.state = State.Behind;
    w.stream.behind.add(w);
  }

  private makeLive(w: Watcher): void {
    w.stream.behind.delete(w);
    w.state = State.Live;
    this.live.add(w);
  }

  // ---- catching up

  /** Returns whether a replay ran (the next turn may continue it). */
  private catchUp(): boolean {
    let replayed = false;
    for (const stream of this.streams.values()) {
      if (stream.behind.size === 0 || this.full(stream)) continue;
      const fromRing: Watcher[] = [];
      for (const w of stream.behind) {
        if (this.cursorRev < w.syncFloor) continue;
        if (w.nextRev > this.cursorRev && w.nextRev >= this.compactRev) this.makeLive(w);
        else if (this.ringHas(w)) fromRing.push(w);
      }
      if (fromRing.length > 0) replayed = this.replay(fromRing) || replayed;
    }
    this.requestHistory();
    return replayed;
  }

  /** Whether the ring still holds every revision the watcher needs, from nextRev up to the cursor. */
  private ringHas(w: Watcher): boolean {
    if (w.nextRev <= this.lastGapRev || w.nextRev < this.compactRev || (w.prevKv && w.nextRev <= this.lastWithoutPrevRev)) return false;
    const first = Math.max(this.reader.tail(this.cursor), this.ringStart);
    if (first >= this.cursor) return false;
    const revision = this.reader.revisionAt(first);
    return revision !== undefined && revision <= w.nextRev;
  }

  /** Catches watchers up from the ring records between their nextRev and the cursor; false if the ring moved on first. */
  private replay(watchers: Watcher[]): boolean {
    const from = Math.min(...watchers.map((w) => w.nextRev));
    let lo = Math.max(this.reader.tail(this.cursor), this.ringStart);
    let hi = this.cursor;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const revision = this.reader.revisionAt(mid);
      if (revision === undefined) return false; // overwritten meanwhile: the history will have it
      if (revision < from) lo = mid + 1;
      else hi = mid;
    }
    const pass = new CatchUpPass(this, watchers);
    let through = from - 1;
    for (let seq = lo, n = 0; seq < this.cursor && n < CATCH_UP_MAX_REVISIONS; seq++, n++) {
      const record = this.reader.read(seq);
      if (record === undefined) break;
      const parsed = readRecord(record.bytes);
      if (!pass.add(parsed)) break;
      through = parsed.revision;
    }
    pass.finish(through);
    return through >= from;
  }

  /** Asks the main thread for the history of the watchers the ring cannot catch up (one request at a time). */
  private requestHistory(): void {
    if (this.history !== undefined) return;
    const watchers: Watcher[] = [];
    for (const stream of this.streams.values()) {
      if (this.full(stream)) continue;
      for (const w of stream.behind) {
        if (this.cursorRev >= w.syncFloor && (w.nextRev <= this.cursorRev || w.nextRev < this.compactRev) && !this.ringHas(w)) watchers.push(w);
      }
    }
    if (watchers.length === 0) return;
    const ranges = new Map<string, WireRange>();
    let from = Infinity;
    let prevKv = false;
    for (const w of watchers) {
      w.stream.behind.delete(w);
      w.stream.fetching++;
      w.state = State.Fetching;
      from = Math.min(from, w.nextRev);
      prevKv ||= w.prevKv;
      ranges.set(`${w.range.key.length}:${w.range.key}${w.range.end ?? '\u0000single'}`, w.range);
    }
    const id = this.nextHistoryId++;
    this.history = { id, watchers };
    this.host.send({ type: 'history', id, from, ranges: [...ranges.values()], prevKv });
  }

  private onHistory(reply: Extract<ToWorker, { type: 'history' }>): void {
    const request = this.history;
    if (request === undefined || request.id !== reply.id) return;
    this.history = undefined;
    this.compactRev = Math.max(this.compactRev, reply.compactRevision);
    const watchers: Watcher[] = [];
    for (const w of request.watchers) {
      if (w.state !== State.Fetching) continue;
      w.stream.fetching--;
      w.state = State.Behind;
      w.stream.behind.add(w);
      if (w.nextRev < reply.compactRevision) {
        // As etcd: the revision asked for is gone; the response cancels the watch (header revision 0).
        const bytes = this.out.control(w.stream.id, this.headers.get(0, this.term), w.id, true, reply.compactRevision);
        this.remove(w);
        this.sent(w.stream, bytes);
      } else {
        watchers.push(w);
      }
    }
    if (watchers.length === 0) return;
    const pass = new CatchUpPass(this, watchers);
    for (const record of readRecords(Buffer.from(reply.records))) if (!pass.add(record)) break;
    pass.finish(reply.through);
  }

  // ---- responses

  /** Sends events to a watcher: one response, or etcd's fragments when it asked for them. */
  emitEvents(w: Watcher, header: Buffer, fields: readonly Buffer[], count = fields.length): void {
    const stream = w.stream;
    let bytes = 0;
    if (!w.fragment) {
      bytes = this.out.events(stream.id, header, w.id, fields, 0, count, false);
    } else {
      const base = header.length + (w.id !== 0 ? 1 + varintBytes(w.id) : 0);
      const ends = fragmentEnds(base, fields.slice(0, count).map((f) => f.length), this.config.maxResponseBytes);
      let from = 0;
      for (let k = 0; k < ends.length; k++) {
        bytes += this.out.events(stream.id, header, w.id, fields, from, ends[k]!, k < ends.length - 1);
        from = ends[k]!;
      }
    }
    w.quiet = false;
    this.sent(stream, bytes);
  }

  headerFor(revision: number): Buffer {
    return this.headers.get(revision, this.term);
  }

  private sent(stream: Stream | undefined, bytes: number): void {
    if (stream === undefined) return;
    stream.unacked += bytes;
    this.totalUnacked += bytes;
  }

  /** A stream takes nothing more until acks come: over its window, or the worker over its total one. */
  full(stream: Stream): boolean {
    return stream.unacked >= this.config.streamWindowBytes || (this.totalUnacked >= this.config.totalWindowBytes && stream.unacked > 0);
  }

  /** Bytes a catch-up may send to the stream now. */
  budget(stream: Stream): number {
    return Math.max(0, this.config.streamWindowBytes - stream.unacked);
  }

  /** A catch-up pass delivered the watcher everything up to `through`: it may go live. */
  caughtUp(w: Watcher, through: number): void {
    w.nextRev = Math.max(w.nextRev, through + 1);
    if (w.state === State.Behind && w.nextRev > this.cursorRev) this.makeLive(w);
  }

  private answerProgressRequests(): void {
    for (const stream of this.streams.values()) {
      if (stream.progressWanted === 0 || stream.behind.size > 0 || stream.fetching > 0) continue;
      if (this.cursorRev < stream.progressRevision) continue;
      const header = this.headers.get(this.cursorRev, this.term);
      let bytes = 0;
      for (; stream.progressWanted > 0; stream.progressWanted--) bytes += this.out.control(stream.id, header, ALL_WATCHERS, false);
      this.sent(stream, bytes);
    }
  }

  /** etcd's progress ticker: a progress_notify watcher that got no events since the last tick hears the current revision. */
  private progressTick(stream: Stream): void {
    const header = this.headers.get(this.cursorRev, this.term);
    let bytes = 0;
    for (const w of stream.watchers.values()) {
      if (!w.progressNotify) continue;
      if (w.quiet && w.state === State.Live) bytes += this.out.control(stream.id, header, w.id, false);
      w.quiet = true;
    }
    this.sent(stream, bytes);
    this.flush();
  }

  // ---- streams and watchers

  private stream(id: number): Stream {
    let stream = this.streams.get(id);
    if (stream === undefined) this.streams.set(id, (stream = new Stream(id)));
    return stream;
  }

  private create(m: Extract<ToWorker, { type: 'create' }>): void {
    this.compactRev = Math.max(this.compactRev, m.compactRevision);
    const stream = this.stream(m.stream);
    const w = new Watcher(stream, m.watchId, m.range, m.startRevision, m.noPut, m.noDelete, m.prevKv, m.fragment, m.progressNotify);
    stream.watchers.set(w.id, w);
    if (w.nextRev > m.currentRevision && w.nextRev > this.cursorRev) {
      this.live.add(w);
    } else {
      if (w.nextRev <= m.currentRevision) w.syncFloor = m.currentRevision;
      w.state = State.Behind;
      stream.behind.add(w);
    }
    if (w.progressNotify && stream.progressTimer === undefined) {
      const interval = this.config.progressIntervalMs;
      // etcd adds up to 10% jitter, so that streams created together do not tick together.
      stream.progressTimer = setInterval(() => this.progressTick(stream), interval + Math.floor(Math.random() * (interval / 10)));
      stream.progressTimer.unref();
    }
  }

  private remove(w: Watcher): void {
    if (w.state === State.Live) this.live.delete(w);
    else if (w.state === State.Behind) w.stream.behind.delete(w);
    else if (w.state === State.Fetching) w.stream.fetching--;
    w.state = State.Gone;
    if (w.stream.watchers.get(w.id) === w) w.stream.watchers.delete(w.id);
  }

  private closeStream(id: number): void {
    const stream = this.streams.get(id);
    if (stream === undefined) return;
    for (const w of [...stream.watchers.values()]) this.remove(w);
    clearInterval(stream.progressTimer);
    this.totalUnacked -= stream.unacked;
    this.streams.delete(id);
  }
}

/**
 * Delivers a run of records (from the ring, or a history reply) to behind watchers, each getting
 * one response with its events of the whole run. Each stream may take its budget (its window's
 * free bytes): once a record exhausts it, the stream's watchers stop before the next record.
 */
class CatchUpPass {
  private readonly index = new WatcherIndex<Watcher>();
  private readonly streams = new Set<Stream>();
  private activeStreams = 0;

  constructor(
    private readonly engine: WatchEngine,
    private readonly watchers: readonly Watcher[],
  ) {
    for (const w of watchers) {
      if (w.batch.length !== 0) w.batch.length = 0;
      w.stoppedBefore = 0;
      this.index.add(w);
      if (!this.streams.has(w.stream)) {
        this.streams.add(w.stream);
        w.stream.stoppedBefore = 0;
        w.stream.budget = engine.budget(w.stream);
      }
    }
    this.activeStreams = this.streams.size;
  }

  /** Takes one record (records come in revision order); false once no stream takes more. */
  add(record: RevisionRecord): boolean {
    for (const stream of this.streams) {
      if (stream.stoppedBefore === 0 && stream.budget <= 0) {
        stream.stoppedBefore = record.revision;
        this.activeStreams--;
      }
    }
    if (this.activeStreams === 0) return false;
    if (record.kind === RecordKind.Gap) {
      for (const w of this.watchers) if (w.nextRev <= record.revision) this.stop(w, record.revision);
      return true;
    }
    let encoded: EncodedRecord | undefined;
    const events = record.events;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      this.index.forEachMatch(ev.keyString, (w) => {
        if (w.stoppedBefore !== 0 || w.stream.stoppedBefore !== 0 || w.state !== State.Behind) return;
        if (record.revision < w.nextRev || !w.takes(ev.type)) return;
        if (w.prevKv && !record.withPrev) return this.stop(w, record.revision);
        encoded ??= new EncodedRecord(record);
        const field = encoded.field(i, w.prevKv);
        w.batch.push(field);
        w.stream.budget -= field.length;
      });
    }
    return true;
  }

  /** Ends the pass, which read every record up to `through`. */
  finish(through: number): void {
    for (const w of this.watchers) {
      if (w.state !== State.Behind) continue;
      const stop = w.stoppedBefore !== 0 ? w.stoppedBefore : w.stream.stoppedBefore;
      const reached = stop !== 0 ? Math.max(w.nextRev, stop) - 1 : Math.max(through, w.nextRev - 1);
      if (w.batch.length > 0) {
        this.engine.emitEvents(w, this.engine.headerFor(reached), w.batch);
        w.batch.length = 0;
      }
      this.engine.caughtUp(w, reached);
    }
  }

  private stop(w: Watcher, before: number): void {
    if (w.stoppedBefore === 0) w.stoppedBefore = before;
  }
}
