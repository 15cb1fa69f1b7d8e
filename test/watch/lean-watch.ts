// A lean watch client for scale tests and the fan-out benchmark: the project's HTTP/2 gRPC channel,
// requests encoded with the project's codecs, and responses scanned in place (no objects per
// message) for what a check needs: watch ids, created/canceled, each event's mod revision and,
// optionally, a timestamp its value starts with. Every watcher's events are checked as they come:
// strictly increasing revisions (so never one twice, never out of order).
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { WatchService } from '../../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../../src/main/api/grpc/framing.js';

const WATCH_PATH = `/${WatchService.name}/Watch`;
const WatchRequestCodec = WatchService.methods.Watch.request;

/** One watcher's deliveries. */
export interface WatcherTally {
  count: number;
  lastRevision: number;
  /** Events that did not come after the previous one (a repeat or out of order). */
  disorder: number;
}

export interface LeanWatchOptions {
  /** Called with each event's put→event latency (ms) when its value starts with a float64 epoch-ms stamp. */
  onLatency?: (ms: number) => void;
}

/** One HTTP/2 connection for watch streams; `initialWindowSize` bounds what the server may send a stream the client does not read. */
export async function connectLean(url: string, initialWindowSize = 1 << 20): Promise<ClientHttp2Session> {
  const session = http2.connect(url, { settings: { enablePush: false, initialWindowSize }, peerMaxConcurrentStreams: 1 << 16, maxSessionMemory: 256 });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.on('error', () => undefined);
  session.setLocalWindowSize(64 << 20);
  return session;
}

export class LeanWatchStream {
  readonly tallies = new Map<number, WatcherTally>();
  canceled = 0;
  private createdWaiters: { remaining: number; ids: number[]; resolve: (ids: number[]) => void } | undefined;
  private ended: Error | undefined;
  private partial: Buffer | undefined;

  private constructor(
    private readonly req: ClientHttp2Stream,
    private readonly options: LeanWatchOptions,
  ) {
    req.on('data', (chunk: Buffer) => this.onData(chunk));
    req.on('close', () => (this.ended ??= new Error('watch stream closed')));
    req.on('error', (e) => (this.ended = e));
  }

  static open(session: ClientHttp2Session, options: LeanWatchOptions = {}): LeanWatchStream {
    const req = session.request({ ':method': 'POST', ':path': WATCH_PATH, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    return new LeanWatchStream(req, options);
  }

  /** Creates `n` watchers on [key, rangeEnd) from startRevision (0: now); resolves with their ids once all are created. */
  create(n: number, key: Uint8Array, rangeEnd: Uint8Array, startRevision = 0): Promise<number[]> {
    return new Promise((resolve, reject) => {
      if (this.ended !== undefined) return reject(this.ended);
      this.createdWaiters = { remaining: n, ids: [], resolve };
      for (let i = 0; i < n; i++) this.req.write(encodeFrame(WatchRequestCodec, { createRequest: { key, rangeEnd, startRevision } }));
    });
  }

  /** Stops reading: the server's responses stay in flight until HTTP/2 flow control stops it. */
  pause(): void {
    this.req.pause();
  }

  resume(): void {
    this.req.resume();
  }

  close(): void {
    this.req.close(http2.constants.NGHTTP2_CANCEL);
  }

  get error(): Error | undefined {
    return this.ended;
  }

  private onData(chunk: Buffer): void {
    let buf = this.partial === undefined ? chunk : Buffer.concat([this.partial, chunk]);
    this.partial = undefined;
    while (buf.length >= 5) {
      const end = 5 + buf.readUInt32BE(1);
      if (buf.length < end) break;
      this.scan(buf.subarray(5, end));
      buf = buf.subarray(end);
    }
    if (buf.length > 0) this.partial = buf;
  }

  private scan(buf: Buffer): void {
    let at = 0;
    let watchId = 0;
    let created = false;
    let canceled = false;
    const events: [number, number][] = []; // [start, end) of each event
    while (at < buf.length) {
      const tag = buf[at++]!;
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire === 0) {
        const [v, next] = varint(buf, at);
        at = next;
        if (field === 2) watchId = v;
        else if (field === 3) created = v !== 0;
        else if (field === 4) canceled = v !== 0;
      } else if (wire === 2) {
        const [len, next] = varint(buf, at);
        if (field === 11) events.push([next, next + len]);
        at = next + len;
      } else {
        throw new Error(`lean watch: unexpected wire type ${wire}`);
      }
    }
    if (created) {
      const w = this.createdWaiters;
      if (w === undefined) return;
      if (!canceled) {
        w.ids.push(watchId);
        this.tallies.set(watchId, { count: 0, lastRevision: 0, disorder: 0 });
      }
      if (--w.remaining === 0) {
        this.createdWaiters = undefined;
        w.resolve(w.ids);
      }
      return;
    }
    if (canceled) this.canceled++;
    const tally = this.tallies.get(watchId);
    if (tally === undefined) return;
    for (const [start, end] of events) {
      const revision = this.eventRevision(buf, start, end);
      if (revision <= tally.lastRevision) tally.disorder++;
      tally.lastRevision = revision;
      tally.count++;
    }
  }

  /** An event's kv.mod_revision; reports latency from the value's stamp when asked to. */
  private eventRevision(buf: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end) {
      const tag = buf[at++]!;
      if ((tag & 7) === 0) {
        at = varint(buf, at)[1];
        continue;
      }
      const [len, next] = varint(buf, at);
      if (tag >>> 3 === 2) return this.kvRevision(buf, next, next + len);
      at = next + len;
    }
    return 0;
  }

  private kvRevision(buf: Buffer, start: number, end: number): number {
    let at = start;
    let revision = 0;
    while (at < end) {
      const tag = buf[at++]!;
      if ((tag & 7) === 0) {
        const [v, next] = varint(buf, at);
        if (tag >>> 3 === 3) revision = v;
        at = next;
        continue;
      }
      const [len, next] = varint(buf, at);
      if (tag >>> 3 === 5 && this.options.onLatency !== undefined && len >= 8) {
        this.options.onLatency(performance.timeOrigin + performance.now() - buf.readDoubleLE(next));
      }
      at = next + len;
    }
    return revision;
  }
}

/** A varint as a number (int64 -1 and other negatives come back as -1: ids only). */
function varint(buf: Buffer, at: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[at++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return [i === 9 ? -1 : result, at];
    scale *= 128;
  }
  throw new Error('lean watch: varint too long');
}

