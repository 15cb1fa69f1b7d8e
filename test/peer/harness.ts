// Transports on loopback for the peer tests: members with recording callbacks, Raft-like
// messages that are easy to check, and a fake peer that speaks the wire protocol by hand.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { EntryType, MessageType, type Entry, type Message, type NodeId } from '../../src/main/raft/types.js';
import { FrameReader, FrameType } from '../../src/main/peer/frame.js';
import { PeerTransport, type PeerTransportOptions } from '../../src/main/peer/transport.js';
import { decodeFrame, encodeAccept, type PeerFrame } from '../../src/main/peer/wire.js';
import { freePort } from '../helpers/ports.js';

/** PEER_TEST_LOG=debug shows the transports' logs. */
export const testLog: Logger = pino({ level: process.env.PEER_TEST_LOG ?? 'silent' });

/** Ids across the whole uint64 range, two of them ≥ 2^63. */
export const ID_A: NodeId = 0x8000_0000_0000_0001n;
export const ID_B: NodeId = 0xffff_ffff_ffff_fffen;
export const ID_C: NodeId = 0x1234n;
export const CLUSTER: bigint = 0xfedc_ba98_7654_3210n;

export const url = (port: number): string => `http://127.0.0.1:${port}`;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Whatever a test opened; test files close it all after each test, so a failing test leaks nothing. */
const opened: { close(): Promise<void> }[] = [];
export const closeAfterTest = <T extends { close(): Promise<void> }>(thing: T): T => {
  opened.push(thing);
  return thing;
};
export async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((thing) => thing.close()));
}

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `peer-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** A MsgApp-like message whose `index` is its sequence number on the link, with checkable entries. */
export function appMessage(from: NodeId, to: NodeId, seq: number, entryCount = 3, entryBytes = 16): Message {
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) {
    const data = Buffer.alloc(entryBytes);
    for (let b = 0; b < entryBytes; b++) data[b] = (seq * 31 + i * 7 + b) & 0xff;
    entries.push({ term: 7, index: seq * 100 + i, type: i === 0 ? EntryType.ConfChange : EntryType.Normal, data });
  }
  return {
    type: MessageType.App,
    from,
    to,
    term: 7,
    index: seq,
    logTerm: 6,
    entries,
    commit: 2 ** 40 + seq,
    reject: seq % 2 === 0,
    rejectHint: seq,
    context: seq % 3 === 0 ? Buffer.from(`ctx-${seq}`) : undefined,
  };
}

/** A comparable view of a message: byte arrays as hex, absent optionals dropped. */
export function plain(m: Message): unknown {
  return {
    ...m,
    entries: m.entries.map((e) => ({ ...e, data: Buffer.from(e.data).toString('hex') })),
    context: m.context === undefined ? undefined : Buffer.from(m.context).toString('hex'),
    snapshot: m.snapshot,
  };
}

export interface TestMember {
  id: NodeId;
  port: number;
  snapDir: string;
  transport: PeerTransport;
  received: Message[];
  snapshots: { msg: Message; file: string }[];
  unreachable: NodeId[];
}

/** A transport with recording callbacks; `peers` maps ids to ports. Not started; closed after the test. */
export function member(id: NodeId, port: number, peers: Map<NodeId, number>, extra: Partial<PeerTransportOptions> = {}): TestMember {
  const m: TestMember = { id, port, snapDir: tempDir('snap'), transport: undefined!, received: [], snapshots: [], unreachable: [] };
  m.transport = closeAfterTest(new PeerTransport({
    selfId: id,
    clusterId: CLUSTER,
    listenUrls: [url(port)],
    peers: new Map([...peers].map(([peer, p]) => [peer, [url(p)]])),
    onMessage: (msg) => m.received.push(msg),
    onSnapshot: (msg, file) => m.snapshots.push({ msg, file }),
    onUnreachable: (to) => m.unreachable.push(to),
    snapshotDir: m.snapDir,
    log: testLog,
    ...extra,
  }));
  return m;
}

/**
 * Started members that all know each other, with every link up: a heartbeat went over each
 * (and was forgotten), so what a test sends next is not queued behind a handshake.
 */
export async function cluster(ids: NodeId[], extra: Partial<PeerTransportOptions> = {}): Promise<TestMember[]> {
  let members: TestMember[];
  for (let attempt = 1; ; attempt++) {
    const ports = await Promise.all(ids.map(() => freePort()));
    members = ids.map((id, i) => member(id, ports[i]!, new Map(ids.flatMap((o, j) => (o === id ? [] : [[o, ports[j]!] as const]))), extra));
    try {
      await Promise.all(members.map((m) => m.transport.start()));
      break;
    } catch (err) {
      // Another process may take a free port before we listen on it: pick new ones.
      await Promise.all(members.map((m) => m.transport.close()));
      if (attempt === 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  for (const m of members) {
    m.transport.send(members.filter((o) => o !== m).map((o) => ({ ...appMessage(m.id, o.id, 0, 0), type: MessageType.Heartbeat })));
  }
  await waitFor('every link up', () => members.every((m) => m.received.length === members.length - 1));
  for (const m of members) m.received.length = 0;
  return members;
}

/** Received messages from one sender, as their sequence numbers. */
/**
 * Like Raft, resends a message (seq, seq + 1, ...) until `to` receives one from `from`: after a
 * link that was open breaks, what is sent until it is open again is dropped. Returns the next seq.
 */
export async function resendUntilReceived(from: TestMember, to: TestMember, seq: number): Promise<number> {
  const count = () => to.received.filter((r) => r.from === from.id).length;
  const before = count();
  while (count() === before) {
    from.transport.send([appMessage(from.id, to.id, seq++)]);
    await sleep(20);
  }
  return seq;
}

export const seqsFrom = (m: TestMember, from: NodeId): number[] => m.received.filter((r) => r.from === from).map((r) => r.index);

/**
 * A listener that accepts any Hello and records the frames it reads; its sockets can be paused
 * to play a receiver that stopped reading.
 */
export class FakePeer {
  readonly frames: PeerFrame[] = [];
  readonly sockets: net.Socket[] = [];
  private readonly server: net.Server;

  constructor() {
    closeAfterTest(this);
    this.server = net.createServer((socket) => {
      this.sockets.push(socket);
      const reader = new FrameReader(
        {
          onFrame: (type, payload) => {
            const frame = decodeFrame(type, payload);
            this.frames.push(frame);
            if (frame.type === FrameType.Hello) socket.write(encodeAccept());
          },
        },
        64 << 20,
      );
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.on('error', () => {});
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Messages from every Messages frame so far, in order. */
  messages(): Message[] {
    return this.frames.flatMap((f) => (f.type === FrameType.Messages ? f.messages : []));
  }

  messageFrames(): number {
    return this.frames.filter((f) => f.type === FrameType.Messages).length;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw TCP client for sending hand-made bytes; resolves `closed` when the other side closes. */
export async function rawClient(port: number): Promise<{ socket: net.Socket; closed: Promise<void>; data: Buffer[] }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const data: Buffer[] = [];
  socket.on('data', (d: Buffer) => data.push(d));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed, data };
}
