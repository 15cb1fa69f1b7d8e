// Accepting links from peers: the handshake (refusing other clusters, other member ids and
// strangers), then either a stream of Raft message batches answered with pongs, or one snapshot.
import net from 'node:net';
import type { Logger } from '../log.js';
import { MessageType, NONE, type Message, type NodeId } from '../raft/types.js';
import { FrameReader, FrameTooLargeError, FrameType, type FrameSink } from './frame.js';
import { MAX_MESSAGES_FRAME_BYTES } from './peer-connection.js';
import { hex, type PeerAddress } from './peer-url.js';
import { MAX_SNAPSHOT_FRAME_BYTES, SNAPSHOT_IDLE_TIMEOUT_MS, SnapshotReceiver } from './snapshot-stream.js';
import type { PeerStats } from './stats.js';
import { decodeFrame, encodeAccept, encodeMembers, encodePing, encodeReject, LinkKind, type Hello, type MembershipInfo, type PeerFrame, type RejectCode } from './wire.js';

/** A Hello is a few dozen bytes; anything claiming more before the handshake is not a peer. */
const MAX_HELLO_FRAME_BYTES = 256;
/** A connection that has not completed the handshake by then is closed. */
const HANDSHAKE_TIMEOUT_MS = 5000;

export interface InboundContext {
  readonly selfId: NodeId;
  readonly clusterId: bigint;
  readonly log: Logger;
  readonly stats: PeerStats;
  readonly snapshotDir: string;
  /** Why a link with this Hello is refused, or undefined to accept it. */
  refusal(hello: Hello): { code: RejectCode; detail: string } | undefined;
  /** A decoded, checked batch from one peer, in order. */
  deliver(messages: Message[]): void;
  deliverSnapshot(message: Message, file: string): void;
  /** The membership, for a member joining the cluster. */
  membership(): MembershipInfo;
}

export class Listener {
  private readonly servers: net.Server[] = [];
  private readonly links = new Set<InboundLink>();

  constructor(
    private readonly addresses: PeerAddress[],
    private readonly ctx: InboundContext,
  ) {}

  async start(): Promise<void> {
    for (const addr of this.addresses) {
      const server = net.createServer({ noDelay: true }, (socket) => this.links.add(new InboundLink(socket, this, this.ctx)));
      this.servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(addr.port, addr.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.ctx.log.error({ url: addr.url, err: err.message }, 'peer listener error'));
      this.ctx.log.info({ url: addr.url }, 'listening for peers');
    }
  }

  /** Closes every link from `id` (a removed member), except `keep`. */
  closeLinksFrom(id: NodeId, keep?: InboundLink): void {
    for (const link of this.links) if (link !== keep && link.from === id) link.destroy();
  }

  /** Stops listening, closes every link and waits for partial snapshot files to be removed. */
  async close(): Promise<void> {
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const receiving: Promise<void>[] = [];
    for (const link of this.links) {
      link.destroy();
      if (link.receiver !== undefined) receiving.push(link.receiver.done);
    }
    await Promise.all([...closed, ...receiving]);
  }

  /** A new Raft link from a peer supersedes any older one (the peer redialed). */
  raftLinkAccepted(link: InboundLink): void {
    for (const other of this.links) if (other !== link && other.from === link.from && other.kind === LinkKind.Raft) other.destroy();
  }

  linkClosed(link: InboundLink): void {
    this.links.delete(link);
  }
}

class InboundLink implements FrameSink {
  from: NodeId = NONE;
  kind: LinkKind | undefined;
  receiver: SnapshotReceiver | undefined;
  private readonly reader: FrameReader;

  constructor(
    private readonly socket: net.Socket,
    private readonly listener: Listener,
    private readonly ctx: InboundContext,
  ) {
    this.reader = new FrameReader(this, MAX_HELLO_FRAME_BYTES);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
      } catch (err) {
        // Only the frame limit; an exception from the member's callbacks is not the peer's fault.
        if (!(err instanceof FrameTooLargeError)) throw err;
        this.malformed(err.message);
      }
    });
    socket.on('error', (err) => ctx.log.debug({ from: hex(this.from), remote: socket.remoteAddress, err: err.message }, 'peer link error'));
    socket.on('close', () => {
      this.reader.stop();
      this.receiver?.abort();
      listener.linkClosed(this);
    });
  }

  destroy(): void {
    this.reader.stop();
    this.socket.destroy();
    // Now rather than on 'close', so that the receiver's `done` covers removing its partial file.
    this.receiver?.abort();
  }

  onFrame(type: number, payload: Buffer): void {
    let frame: PeerFrame;
    try {
      frame = decodeFrame(type, payload);
    } catch (err) {
      return this.malformed((err as Error).message);
    }
    if (this.kind === undefined) {
      if (frame.type === FrameType.Hello) this.handshake(frame.hello);
      else this.malformed(`frame type ${type} before the handshake`);
    } else if (this.kind === LinkKind.Raft) this.onRaftFrame(frame);
    else this.onSnapshotFrame(frame);
  }

  private handshake(hello: Hello): void {
    const refusal = this.ctx.refusal(hello);
    if (refusal !== undefined) {
      this.ctx.stats.refused++;
      this.ctx.log.warn(
        { remote: this.socket.remoteAddress, code: refusal.code, detail: refusal.detail, ...helloIds(hello, this.ctx) },
        'refused peer link',
      );
      this.reader.stop();
      // The handshake timeout still closes it if the dialer does not.
      this.socket.end(encodeReject(refusal.code, refusal.detail));
      return;
    }
    if (hello.link === LinkKind.Membership) {
      this.reader.stop();
      this.socket.end(encodeMembers(this.ctx.membership()));
      return;
    }
    this.from = hello.from;
    this.kind = hello.link;
    if (hello.link === LinkKind.Raft) {
      this.reader.maxPayloadBytes = MAX_MESSAGES_FRAME_BYTES;
      this.socket.setTimeout(0);
      this.socket.setKeepAlive(true, 10_000);
      this.listener.raftLinkAccepted(this);
    } else {
      this.reader.maxPayloadBytes = MAX_SNAPSHOT_FRAME_BYTES;
      this.socket.setTimeout(SNAPSHOT_IDLE_TIMEOUT_MS);
    }
    this.socket.write(encodeAccept());
  }

  private onRaftFrame(frame: PeerFrame): void {
    if (frame.type === FrameType.Ping) {
      this.socket.write(encodePing(FrameType.Pong, frame.sentAt));
      return;
    }
    if (frame.type !== FrameType.Messages) return this.malformed(`frame type ${frame.type} on a raft link`);
    // Checked as a whole before any is delivered: a bad frame is never partly applied.
    for (const m of frame.messages) {
      if (m.from !== this.from || m.to !== this.ctx.selfId || m.type === MessageType.Snap) {
        return this.malformed(`message type ${m.type} from ${hex(m.from)} to ${hex(m.to)} on this link`);
      }
    }
    this.ctx.stats.received += frame.messages.length;
    this.ctx.deliver(frame.messages);
  }

  private onSnapshotFrame(frame: PeerFrame): void {
    if (this.receiver === undefined && frame.type === FrameType.SnapshotHeader) {
      const m = frame.message;
      if (m.type !== MessageType.Snap || m.from !== this.from || m.to !== this.ctx.selfId || m.snapshot === undefined) {
        return this.malformed('snapshot header without a MsgSnap for this member');
      }
      const { log, snapshotDir } = this.ctx;
      this.receiver = new SnapshotReceiver(this.socket, {
        dir: snapshotDir,
        message: m,
        size: frame.size,
        log,
        deliver: (message, file) => this.ctx.deliverSnapshot(message, file),
      });
    } else if (this.receiver !== undefined && frame.type === FrameType.SnapshotChunk) this.receiver.chunk(frame.data);
    else if (this.receiver !== undefined && frame.type === FrameType.SnapshotEnd) this.receiver.end(frame.sha256);
    else this.malformed(`frame type ${frame.type} out of place on a snapshot link`);
  }

  private malformed(detail: string): void {
    this.ctx.stats.decodeErrors++;
    this.ctx.log.warn({ from: hex(this.from), remote: this.socket.remoteAddress, detail }, 'bad frame from peer; closing the link');
    this.destroy();
  }
}

/** Both sides' ids, in hex, for the refusal log. */
function helloIds(hello: Hello, local: InboundContext): Record<string, string> {
  return {
    remoteMemberId: hex(hello.from),
    requestedMemberId: hex(hello.to),
    localMemberId: hex(local.selfId),
    remoteClusterId: hex(hello.clusterId),
    localClusterId: hex(local.clusterId),
  };
}
