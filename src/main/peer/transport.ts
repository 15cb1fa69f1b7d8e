// The peer transport of a member: delivers the Raft core's messages to the other members over
// one outgoing TCP link per peer (batched per event-loop turn, bounded, redialed with backoff),
// streams snapshots over links of their own, and hands what arrives to the member.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { MessageType, type Message, type NodeId } from '../raft/types.js';
import { PeerError } from './errors.js';
import { Listener, type InboundContext } from './listener.js';
import { PeerConnection, type LinkContext } from './peer-connection.js';
import { hex, parsePeerUrl, type PeerAddress } from './peer-url.js';
import { isPartialSnapshotFile, SnapshotSender } from './snapshot-stream.js';
import { newStats, type PeerStats } from './stats.js';
import { LinkKind, PROTOCOL_VERSION, RejectCode, type Hello, type MembershipInfo } from './wire.js';
export type { MembershipInfo } from './wire.js';

export { PeerError, type PeerErrorCode } from './errors.js';

export interface PeerTransportOptions {
  selfId: NodeId;
  clusterId: bigint;
  /** Addresses to listen on, etcd-style URLs: http://host:port (plain TCP). */
  listenUrls: string[];
  /** Other members' peer URLs (the first reachable URL is used). */
  peers: Map<NodeId, string[]>;
  /** Each decoded Raft message from a peer (already checked: right cluster, addressed to selfId). */
  onMessage(msg: Message): void;
  /** A snapshot fully received and fsynced to `file`; the member installs it and steps `msg` (a MsgSnap). */
  onSnapshot(msg: Message, file: string): void;
  /** Directory for incoming snapshot files (the member's snap dir). */
  snapshotDir: string;
  /** A peer could not be reached or a message to it was dropped; called on a later turn, never from send(). */
  onUnreachable?(to: NodeId): void;
  log: Logger;
  /** Messages queued per peer (default 4096); beyond it new messages to that peer are dropped and counted. */
  maxQueuedMessages?: number;
  /** Ping period of each link, for RTT and to notice a dead link (default 1000 ms). */
  pingIntervalMs?: number;
  /** Time to connect and complete the handshake with one URL (default 1000 ms). */
  dialTimeoutMs?: number;
  /** The current membership, answered to members that join the cluster (default: none listed). */
  membership?(): MembershipInfo;
}

export interface PeerTransportStats extends PeerStats {
  /** Messages waiting in the per-peer queues right now. */
  queued: number;
}

const DEFAULT_MAX_QUEUED_MESSAGES = 4096;
const DEFAULT_PING_INTERVAL_MS = 1000;
const DEFAULT_DIAL_TIMEOUT_MS = 1000;

const enum Lifecycle {
  New,
  Started,
  Closed,
}

export class PeerTransport {
  private readonly log: Logger;
  private readonly counters = newStats();
  private readonly peers = new Map<NodeId, PeerConnection>();
  private readonly listener: Listener;
  private readonly snapshotsOut = new Set<SnapshotSender>();
  private readonly links: LinkContext;
  private readonly pingIntervalMs: number;
  private lifecycle = Lifecycle.New;
  /** Peers to report unreachable on the next turn. */
  private unreachable = new Set<NodeId>();
  private turn: NodeJS.Immediate | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: PeerTransportOptions) {
    this.log = opts.log.child({ component: 'peer' });
    this.pingIntervalMs = positive(opts.pingIntervalMs, DEFAULT_PING_INTERVAL_MS, 'pingIntervalMs');
    this.links = {
      selfId: opts.selfId,
      clusterId: opts.clusterId,
      log: this.log,
      stats: this.counters,
      maxQueuedMessages: positive(opts.maxQueuedMessages, DEFAULT_MAX_QUEUED_MESSAGES, 'maxQueuedMessages'),
      dialTimeoutMs: positive(opts.dialTimeoutMs, DEFAULT_DIAL_TIMEOUT_MS, 'dialTimeoutMs'),
      wake: () => this.scheduleTurn(),
      unreachable: (id) => {
        this.unreachable.add(id);
        this.scheduleTurn();
      },
    };
    const inbound: InboundContext = {
      selfId: opts.selfId,
      clusterId: opts.clusterId,
      log: this.log,
      stats: this.counters,
      snapshotDir: opts.snapshotDir,
      refusal: (hello) => this.refusal(hello),
      deliver: (messages) => this.deliver(messages),
      deliverSnapshot: (msg, file) => {
        if (this.lifecycle !== Lifecycle.Closed) this.opts.onSnapshot(msg, file);
      },
      membership: () => this.opts.membership?.() ?? { clusterId: this.opts.clusterId, members: [] },
    };
    this.listener = new Listener(opts.listenUrls.map(parsePeerUrl), inbound);
    for (const [id, urls] of opts.peers) this.addPeer(id, urls);
  }

  /** Listens on every listen URL, then starts dialing the peers. */
  async start(): Promise<void> {
    if (this.lifecycle !== Lifecycle.New) throw new Error('peer transport already started');
    await this.removePartialSnapshots();
    await this.listener.start();
    if (this.lifecycle !== Lifecycle.New) return;
    this.lifecycle = Lifecycle.Started;
    for (const conn of this.peers.values()) conn.start();
    this.pingTimer = setInterval(() => this.pingPeers(), this.pingIntervalMs);
  }

  /** Never blocks: queues each message for its peer; each peer's queue goes out as one frame on the next turn. */
  send(messages: readonly Message[]): void {
    if (this.lifecycle === Lifecycle.Closed) return;
    for (const m of messages) {
      const conn = this.peers.get(m.to);
      if (conn !== undefined && m.type !== MessageType.Snap) conn.enqueue(m);
      else this.dropUnroutable(m);
    }
    this.scheduleTurn();
  }

  /**
   * Streams `file` to msg.to with `msg` (a MsgSnap) as header; resolves once the receiver has
   * it fsynced, rejects with a PeerError otherwise.
   */
  async sendSnapshot(msg: Message, file: string): Promise<void> {
    if (this.lifecycle !== Lifecycle.Started) throw new PeerError('closed', 'peer transport is not running');
    const conn = this.peers.get(msg.to);
    if (conn === undefined) throw new PeerError('unreachable', `member ${hex(msg.to)} is not a peer`);
    const sender = new SnapshotSender({
      selfId: this.opts.selfId,
      clusterId: this.opts.clusterId,
      urls: conn.urls,
      message: msg,
      file,
      dialTimeoutMs: this.links.dialTimeoutMs,
      log: this.log,
    });
    this.snapshotsOut.add(sender);
    const started = performance.now();
    this.log.info({ to: hex(msg.to), index: msg.snapshot?.index, file }, 'sending snapshot');
    sender.start();
    try {
      await sender.done;
      this.log.info({ to: hex(msg.to), index: msg.snapshot?.index, ms: Math.round(performance.now() - started) }, 'snapshot sent');
    } finally {
      this.snapshotsOut.delete(sender);
    }
  }

  /** Adds a peer (or updates the URLs of a known one). The member itself is ignored. */
  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.opts.selfId) return;
    const addresses = parsePeerUrls(id, urls);
    const existing = this.peers.get(id);
    if (existing !== undefined) return existing.setUrls(addresses);
    const conn = new PeerConnection(id, addresses, this.links);
    this.peers.set(id, conn);
    if (this.lifecycle === Lifecycle.Started) conn.start();
  }

  /** Forgets a peer: its queue is dropped, its links (both ways) closed. */
  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
    this.listener.closeLinksFrom(id);
  }

  /** New URLs for a peer (or adds it if unknown); the link moves at once if its URL is gone. */
  updatePeer(id: NodeId, urls: string[]): void {
    this.addPeer(id, urls);
  }

  /** Recent round-trip times to a peer, in seconds, oldest first (empty if none yet). */
  rtt(id: NodeId): number[] {
    return this.peers.get(id)?.rtt() ?? [];
  }

  stats(): PeerTransportStats {
    let queued = 0;
    for (const conn of this.peers.values()) queued += conn.queued;
    return { ...this.counters, queued };
  }

  /** Stops listening, destroys every link, cancels snapshot transfers; leaves no timer behind. */
  async close(): Promise<void> {
    if (this.lifecycle === Lifecycle.Closed) return;
    this.lifecycle = Lifecycle.Closed;
    clearImmediate(this.turn);
    this.turn = undefined;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    for (const conn of this.peers.values()) conn.close();
    for (const sender of this.snapshotsOut) sender.cancel();
    await this.listener.close();
  }

  private scheduleTurn(): void {
    if (this.turn === undefined && this.lifecycle !== Lifecycle.Closed) this.turn = setImmediate(this.runTurn);
  }

  private readonly runTurn = (): void => {
    this.turn = undefined;
    for (const conn of this.peers.values()) conn.flush();
    if (this.unreachable.size === 0) return;
    const ids = this.unreachable;
    this.unreachable = new Set();
    for (const id of ids) this.opts.onUnreachable?.(id);
  };

  private pingPeers(): void {
    const now = performance.now();
    for (const conn of this.peers.values()) conn.ping(now, this.pingIntervalMs);
  }

  private dropUnroutable(m: Message): void {
    this.counters.dropped++;
    if (m.type === MessageType.Snap) this.log.error({ to: hex(m.to) }, 'MsgSnap passed to send(); snapshots go through sendSnapshot()');
    else this.log.debug({ to: hex(m.to), type: m.type }, 'message to an unknown peer dropped');
  }

  private deliver(messages: Message[]): void {
    if (this.lifecycle === Lifecycle.Closed) return;
    for (const m of messages) this.opts.onMessage(m);
  }

  private refusal(hello: Hello): { code: RejectCode; detail: string } | undefined {
    const { selfId, clusterId } = this.opts;
    if (hello.version !== PROTOCOL_VERSION) {
      return { code: RejectCode.Version, detail: `protocol version ${hello.version}; this member speaks ${PROTOCOL_VERSION}` };
    }
    // A joining member asks before it knows any id; what it learns is not secret from peers.
    if (hello.link === LinkKind.Membership) return undefined;
    if (hello.clusterId !== clusterId) {
      return { code: RejectCode.ClusterMismatch, detail: `cluster id mismatch: link for ${hex(hello.clusterId)}, this member is in ${hex(clusterId)}` };
    }
    if (hello.to !== selfId) {
      return { code: RejectCode.WrongMember, detail: `member id mismatch: link for ${hex(hello.to)} reached ${hex(selfId)}` };
    }
    if (!this.peers.has(hello.from)) {
      return { code: RejectCode.UnknownSender, detail: `member ${hex(hello.from)} is not a peer of ${hex(selfId)}` };
    }
    return undefined;
  }

  /** Files left by a transfer that a crash interrupted. */
  private async removePartialSnapshots(): Promise<void> {
    const dir = this.opts.snapshotDir;
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (isPartialSnapshotFile(name)) await rm(path.join(dir, name), { force: true });
    }
  }
}

function parsePeerUrls(id: NodeId, urls: string[]): PeerAddress[] {
  if (urls.length === 0) throw new Error(`peer ${hex(id)} has no URL`);
  return urls.map(parsePeerUrl);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}
