// One outgoing Raft link to one peer: a bounded queue, batched frames, reconnection with
// backoff, and pings that measure the round trip.
//
// Bound and drop policy: at most `maxQueuedMessages` wait in the queue, while the socket is backed
// up (write returned false) or the link has not opened yet. Beyond that the NEWEST message is dropped:
// what stays queued is then a contiguous prefix of what Raft sent, so the follower sees no gap
// it would reject, the queue never shuffles, and Raft (told the peer is unreachable) falls back
// to probing and resends whatever was dropped. Besides the queue, a socket holds at most its
// high-water mark plus one frame (writing stops as soon as write() returns false).
//
// Once an open link breaks, what was queued is dropped, and so is every message until it is open
// again (counted, peer reported unreachable), as etcd drops what it cannot send to an unreachable
// peer: kept for later, a former leader's heartbeats would reach a restarted member after the
// leader stepped down and make it follow a member that leads no more (its proposals then lost).
import net from 'node:net';
import type { Logger } from '../log.js';
import type { Message, NodeId } from '../raft/types.js';
import { FrameReader, FrameTooLargeError, FrameType, type FrameSink } from './frame.js';
import { hex, type PeerAddress } from './peer-url.js';
import type { PeerStats } from './stats.js';
import { decodeFrame, encodeHello, encodeMessages, encodePing, LinkKind, PROTOCOL_VERSION } from './wire.js';

/** What every outgoing link shares with the transport. */
export interface LinkContext {
  readonly selfId: NodeId;
  readonly clusterId: bigint;
  readonly log: Logger;
  readonly stats: PeerStats;
  readonly maxQueuedMessages: number;
  readonly dialTimeoutMs: number;
  /** The link can take more messages (it was accepted or drained): flush on the next turn. */
  wake(): void;
  /** Report the peer unreachable to Raft, on the next turn (never from inside send()). */
  unreachable(id: NodeId): void;
}

const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1000;
/** Messages are cut into frames of about this size so a big batch does not hold up pings. */
const FRAME_TARGET_BYTES = 1 << 20;
/** The listener refuses larger frames; a message that alone exceeds it is dropped. */
export const MAX_MESSAGES_FRAME_BYTES = 64 << 20;
/** Frames the dialer receives (Accept, Reject, Pong) are small. */
const MAX_REPLY_FRAME_BYTES = 4096;
/** A link that has not answered for this many ping intervals is closed and redialed. */
const SILENT_PING_INTERVALS = 5;
const RTT_SAMPLES = 16;

const enum LinkState {
  /** No socket; a retry may be scheduled. */
  Idle,
  /** Dialing, or waiting for Accept. */
  Connecting,
  Open,
  Closed,
}

export class PeerConnection implements FrameSink {
  private queue: Message[] = [];
  private state = LinkState.Idle;
  private socket: net.Socket | undefined;
  private reader: FrameReader | undefined;
  private urlIndex = 0;
  private backoffMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed attempts since the link was last open; only the first is logged as a warning. */
  private failures = 0;
  /** Whether the link has been open: from then on, messages are not queued while it is down. */
  private hasOpened = false;
  private lastHeardAt = 0;
  private readonly rttSamples: number[] = [];

  constructor(
    readonly id: NodeId,
    private addresses: PeerAddress[],
    private readonly ctx: LinkContext,
  ) {}

  get urls(): PeerAddress[] {
    return this.addresses;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Round-trip times in seconds, oldest first. */
  rtt(): number[] {
    return this.rttSamples.slice();
  }

  start(): void {
    if (this.state === LinkState.Idle && this.retryTimer === undefined) this.dial();
  }

  /** Queues a message; drops it (counted, peer reported unreachable) if the link is down or the queue is full. */
  enqueue(m: Message): void {
    const down = this.state !== LinkState.Open && this.hasOpened;
    if (down || this.queue.length >= this.ctx.maxQueuedMessages) {
      this.ctx.stats.dropped++;
      this.ctx.unreachable(this.id);
      return;
    }
    this.queue.push(m);
  }

  /** Writes queued messages as frames until the queue is empty or the socket is backed up. */
  flush(): void {
    const socket = this.socket;
    if (this.state !== LinkState.Open || socket === undefined || this.queue.length === 0 || socket.writableNeedDrain) return;
    const queue = this.queue;
    let start = 0;
    socket.cork();
    while (start < queue.length) {
      const end = frameEnd(queue, start);
      const frame = encodeMessages(queue, start, end);
      const count = end - start;
      start = end;
      if (frame.length > MAX_MESSAGES_FRAME_BYTES) {
        this.ctx.stats.dropped += count;
        this.ctx.unreachable(this.id);
        this.ctx.log.error({ to: hex(this.id), bytes: frame.length }, 'raft message too large for a peer frame; dropped');
        continue;
      }
      this.ctx.stats.sent += count;
      if (!socket.write(frame)) break;
    }
    socket.uncork();
    if (start === queue.length) queue.length = 0;
    else queue.splice(0, start);
  }

  /** Called every ping interval: sends a ping, or closes a link that stopped answering. */
  ping(now: number, intervalMs: number): void {
    if (this.state !== LinkState.Open || this.socket === undefined) return;
    if (now - this.lastHeardAt > SILENT_PING_INTERVALS * intervalMs) {
      this.ctx.log.warn({ to: hex(this.id), silentMs: Math.round(now - this.lastHeardAt) }, 'peer link stopped answering pings; redialing');
      this.socket.destroy();
      return;
    }
    this.socket.write(encodePing(FrameType.Ping, now));
  }

  /** New URLs take effect at once if the link is not on one of them. */
  setUrls(urls: PeerAddress[]): void {
    const current = this.addresses[this.urlIndex];
    this.addresses = urls;
    const kept = current === undefined ? -1 : urls.findIndex((u) => u.host === current.host && u.port === current.port);
    if (kept >= 0) {
      this.urlIndex = kept;
      return;
    }
    this.urlIndex = 0;
    this.backoffMs = RECONNECT_MIN_MS;
    if (this.socket !== undefined || this.retryTimer !== undefined) this.redial();
  }

  /** Stops for good: drops the queue (counted), destroys the socket, cancels the retry. */
  close(): void {
    this.state = LinkState.Closed;
    this.dropQueue();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.reader?.stop();
    this.socket?.destroy();
    this.socket = undefined;
  }

  onFrame(type: number, payload: Buffer): void {
    let frame;
    try {
      frame = decodeFrame(type, payload);
    } catch (err) {
      this.protocolError((err as Error).message);
      return;
    }
    this.lastHeardAt = performance.now();
    if (this.state === LinkState.Connecting && frame.type === FrameType.Accept) this.opened();
    else if (this.state === LinkState.Connecting && frame.type === FrameType.Reject) {
      this.logFailure({ code: frame.code, detail: frame.detail }, 'peer refused the link');
      this.socket!.destroy();
    } else if (this.state === LinkState.Open && frame.type === FrameType.Pong) this.addRtt((this.lastHeardAt - frame.sentAt) / 1000);
    else this.protocolError(`unexpected frame type ${type}`);
  }

  private dial(): void {
    const addr = this.addresses[this.urlIndex];
    if (addr === undefined) return;
    this.state = LinkState.Connecting;
    const socket = net.connect({ host: addr.host, port: addr.port, noDelay: true });
    const reader = new FrameReader(this, MAX_REPLY_FRAME_BYTES);
    this.socket = socket;
    this.reader = reader;
    // Covers the connect and the handshake; cleared once the link is accepted.
    socket.setTimeout(this.ctx.dialTimeoutMs, () => socket.destroy(new Error(`no answer within ${this.ctx.dialTimeoutMs} ms`)));
    socket.on('connect', () => {
      socket.setKeepAlive(true, 10_000);
      socket.write(encodeHello({ version: PROTOCOL_VERSION, clusterId: this.ctx.clusterId, from: this.ctx.selfId, to: this.id, link: LinkKind.Raft }));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        if (!(err instanceof FrameTooLargeError)) throw err;
        this.protocolError(err.message);
      }
    });
    socket.on('drain', () => this.ctx.wake());
    socket.on('error', (err) => {
      if (socket === this.socket) this.logFailure({ url: addr.url, err: err.message }, 'peer link error');
    });
    socket.on('close', () => this.closed(socket));
  }

  /** Drops the current attempt or link without the usual failure handling and dials urls[urlIndex]. */
  private redial(): void {
    const old = this.socket;
    this.socket = undefined;
    this.reader?.stop();
    this.reader = undefined;
    old?.destroy();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.state === LinkState.Open) {
      this.ctx.unreachable(this.id);
      this.dropQueue();
    }
    this.state = LinkState.Idle;
    this.dial();
  }

  private opened(): void {
    const socket = this.socket!;
    socket.setTimeout(0);
    this.state = LinkState.Open;
    this.hasOpened = true;
    this.backoffMs = RECONNECT_MIN_MS;
    this.ctx.log.info({ to: hex(this.id), url: this.addresses[this.urlIndex]?.url, afterFailures: this.failures }, 'peer link established');
    this.failures = 0;
    this.ctx.wake();
  }

  private closed(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.reader?.stop();
    this.reader = undefined;
    if (this.state === LinkState.Closed) return;
    const wasOpen = this.state === LinkState.Open;
    this.state = LinkState.Idle;
    if (wasOpen) this.dropQueue();
    this.ctx.unreachable(this.id);
    if (wasOpen) {
      this.ctx.log.warn({ to: hex(this.id) }, 'peer link lost');
    } else if (this.urlIndex + 1 < this.addresses.length) {
      // "The first reachable URL": try the next one at once, back off after a full round.
      this.urlIndex++;
      this.dial();
      return;
    }
    if (!wasOpen) this.urlIndex = 0;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
  }

  private dropQueue(): void {
    this.ctx.stats.dropped += this.queue.length;
    this.queue = [];
  }

  private protocolError(detail: string): void {
    this.ctx.stats.decodeErrors++;
    this.ctx.log.warn({ to: hex(this.id), detail }, 'bad frame from peer; closing the link');
    this.reader?.stop();
    this.socket?.destroy();
  }

  private logFailure(fields: Record<string, unknown>, msg: string): void {
    // An open link that breaks is reported once, as 'peer link lost'.
    const quiet = this.state === LinkState.Open || this.failures++ > 0;
    if (quiet) this.ctx.log.debug({ to: hex(this.id), ...fields }, msg);
    else this.ctx.log.warn({ to: hex(this.id), ...fields }, msg);
  }

  private addRtt(seconds: number): void {
    if (this.rttSamples.length === RTT_SAMPLES) this.rttSamples.shift();
    this.rttSamples.push(seconds);
  }
}

/** End of the frame that starts at `start`: about FRAME_TARGET_BYTES of messages, at least one. */
function frameEnd(queue: readonly Message[], start: number): number {
  let bytes = 0;
  let end = start;
  while (end < queue.length) {
    bytes += estimateBytes(queue[end]!);
    if (bytes > FRAME_TARGET_BYTES && end > start) break;
    end++;
  }
  return end;
}

function estimateBytes(m: Message): number {
  let bytes = 64 + (m.context?.length ?? 0);
  for (const e of m.entries) bytes += 24 + e.data.length;
  return bytes;
}
