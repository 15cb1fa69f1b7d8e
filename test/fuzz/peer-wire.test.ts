// Fuzzing the peer protocol: decodeFrame on random and mutated payloads of every frame type
// (a frame or a WireError, nothing else), and a live PeerTransport fed mutated message batches
// by a peer that completed the handshake: a batch that fails to decode (or to pass the
// listener's checks) is dropped whole, counted in stats().decodeErrors and closes the link;
// nothing of it reaches the member; a batch that decodes arrives exactly as decoded.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { SeededRandom } from '../../src/main/faults/random.js';
import { FRAME_HEADER_BYTES, FrameReader, FrameType, frameHeader } from '../../src/main/peer/frame.js';
import { PeerTransport } from '../../src/main/peer/transport.js';
import {
  decodeFrame,
  encodeHello,
  encodeMembers,
  encodeMessages,
  encodePing,
  encodeReject,
  encodeSnapshotEnd,
  encodeSnapshotHeader,
  LinkKind,
  PROTOCOL_VERSION,
  RejectCode,
  WireError,
} from '../../src/main/peer/wire.js';
import { EntryType, MessageType, type Message } from '../../src/main/raft/types.js';
import { freePort } from '../helpers/ports.js';
import { fuzzLoop, mutate, noHang, onlyThrows, randomBytes } from './fuzz-kit.js';

const SELF = 0x8000_0000_0000_0001n;
const PEER = 0x1234n;
const CLUSTER = 0xfeedn;

function randomMessage(rnd: SeededRandom): Message {
  const types = [MessageType.App, MessageType.AppResp, MessageType.Vote, MessageType.VoteResp, MessageType.Heartbeat, MessageType.HeartbeatResp, MessageType.PreVote, MessageType.ReadIndex];
  const entries = Array.from({ length: rnd.int(4) }, (_, i) => ({
    term: rnd.int(10),
    index: 100 + i,
    type: rnd.chance(0.2) ? EntryType.ConfChange : EntryType.Normal,
    data: Buffer.from(`entry-${rnd.int(1000)}`),
  }));
  return {
    type: rnd.pick(types),
    from: PEER,
    to: SELF,
    term: rnd.int(1000),
    index: rnd.int(1 << 20),
    logTerm: rnd.int(1000),
    entries,
    commit: rnd.int(1 << 20),
    reject: rnd.chance(0.5),
    rejectHint: rnd.int(100),
    ...(rnd.chance(0.3) ? { context: Buffer.from('ctx') } : {}),
    ...(rnd.chance(0.1) ? { snapshot: { index: 5, term: 2, conf: { voters: [SELF, PEER], learners: [] } } } : {}),
  };
}

const payload = (frame: Buffer) => frame.subarray(FRAME_HEADER_BYTES);

function sampleFrames(rnd: SeededRandom): { type: FrameType; payload: Buffer }[] {
  const msgs = Array.from({ length: rnd.between(1, 4) }, () => randomMessage(rnd));
  return [
    { type: FrameType.Hello, payload: payload(encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from: PEER, to: SELF, link: LinkKind.Raft })) },
    { type: FrameType.Messages, payload: payload(encodeMessages(msgs, 0, msgs.length)) },
    { type: FrameType.Ping, payload: payload(encodePing(FrameType.Ping, 12.5)) },
    { type: FrameType.Reject, payload: payload(encodeReject(RejectCode.ClusterMismatch, 'no')) },
    { type: FrameType.SnapshotHeader, payload: payload(encodeSnapshotHeader({ ...msgs[0]!, type: MessageType.Snap }, 1234)) },
    { type: FrameType.SnapshotEnd, payload: payload(encodeSnapshotEnd(Buffer.alloc(32, 7))) },
    {
      type: FrameType.Members,
      payload: payload(encodeMembers({ clusterId: CLUSTER, members: [{ id: SELF, name: 'a', peerUrls: ['http://x:1'], clientUrls: [], isLearner: false }] })),
    },
  ];
}

test('decodeFrame: random and mutated payloads of every frame type give a frame or a WireError', async () => {
  const ran = await fuzzLoop('peer-decode', { seed: 4242, ms: 3000 }, (rnd) => {
    const samples = sampleFrames(rnd);
    const sample = rnd.pick(samples);
    const type = rnd.chance(0.1) ? rnd.int(16) : sample.type;
    const input = rnd.chance(0.2) ? randomBytes(rnd, 48) : mutate(rnd, sample.payload, samples.map((s) => s.payload));
    onlyThrows(() => decodeFrame(type, input), (e) => e instanceof WireError, input);
  });
  assert.ok(ran > 1000, `only ${ran} iterations`);
});

/** What the listener should do with a Messages frame carrying `body`: deliver these messages, or refuse the frame. */
function expectedDelivery(body: Buffer): Message[] | 'refused' {
  try {
    const frame = decodeFrame(FrameType.Messages, body);
    if (frame.type !== FrameType.Messages) return 'refused';
    if (frame.messages.some((m) => m.from !== PEER || m.to !== SELF || m.type === MessageType.Snap)) return 'refused';
    return frame.messages;
  } catch {
    return 'refused';
  }
}

/** A raft link from PEER to the transport: the handshake done, Accept read. */
async function raftLink(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const accepted = new Promise<void>((resolve, reject) => {
    const reader = new FrameReader({ onFrame: (type) => (type === FrameType.Accept ? resolve() : reject(new Error(`frame ${type} instead of Accept`))) }, 4096);
    socket.on('data', (d: Buffer) => reader.push(d));
    void closed.then(() => reject(new Error('closed during the handshake')));
  });
  socket.write(encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from: PEER, to: SELF, link: LinkKind.Raft }));
  await noHang(accepted, 5000, 'handshake');
  return { socket, closed };
}

test('a live transport drops and counts every batch that fails to decode and delivers the rest exactly', async () => {
  const snapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-peer-'));
  const port = await freePort();
  const received: Message[] = [];
  const transport = new PeerTransport({
    selfId: SELF,
    clusterId: CLUSTER,
    listenUrls: [`http://127.0.0.1:${port}`],
    // The peer's own address answers nothing; only its incoming link matters here.
    peers: new Map([[PEER, ['http://127.0.0.1:9']]]),
    onMessage: (m) => received.push(m),
    onSnapshot: () => undefined,
    snapshotDir: snapDir,
    log: pino({ level: 'silent' }),
  });
  await transport.start();
  let refused = 0;
  let delivered = 0;
  try {
    await fuzzLoop('peer-live', { seed: 777, ms: 4000, maxIterations: 400 }, async (rnd) => {
      const link = await raftLink(port);
      try {
        const msgs = Array.from({ length: rnd.between(1, 3) }, () => randomMessage(rnd));
        const valid = payload(encodeMessages(msgs, 0, msgs.length));
        const body = rnd.chance(0.2) ? valid : mutate(rnd, valid);
        const expected = expectedDelivery(body);
        const marker: Message = { ...randomMessage(rnd), type: MessageType.Heartbeat, entries: [], index: 987654321 };
        const errorsBefore = transport.stats().decodeErrors;
        received.length = 0;
        link.socket.write(Buffer.concat([frameHeader(FrameType.Messages, body.length), body, encodeMessages([marker], 0, 1)]));
        if (expected === 'refused') {
          await noHang(link.closed, 5000, 'the transport closing a link after a bad batch');
          assert.equal(transport.stats().decodeErrors, errorsBefore + 1);
          assert.deepEqual(received, [], 'a refused batch delivered messages');
          refused++;
        } else {
          const deadline = Date.now() + 5000;
          while (!received.some((m) => m.index === marker.index) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
          assert.deepEqual(received.map(comparable), [...expected, marker].map(comparable));
          assert.equal(transport.stats().decodeErrors, errorsBefore);
          delivered++;
        }
      } finally {
        link.socket.destroy();
      }
    });
    // A length prefix beyond the limit is refused before anything is buffered.
    const link = await raftLink(port);
    const before = transport.stats().decodeErrors;
    link.socket.write(frameHeader(FrameType.Messages, 0xffff_fff0));
    await noHang(link.closed, 5000, 'closing on an oversized frame');
    assert.equal(transport.stats().decodeErrors, before + 1);
  } finally {
    await transport.close();
    fs.rmSync(snapDir, { recursive: true, force: true });
  }
  assert.ok(refused > 20 && delivered > 5, `refused ${refused}, delivered ${delivered}`);
});

/** A message as plain, ordered values (byte arrays as hex), to compare what was sent with what arrived. */
function comparable(m: Message): unknown {
  const hex = (b: Uint8Array | undefined) => (b === undefined ? null : Buffer.from(b).toString('hex'));
  return [
    m.type, m.from, m.to, m.term, m.index, m.logTerm, m.commit, m.reject, m.rejectHint,
    m.entries.map((e) => [e.term, e.index, e.type, hex(e.data)]),
    m.snapshot === undefined ? null : [m.snapshot.index, m.snapshot.term, m.snapshot.conf.voters, m.snapshot.conf.learners],
    hex(m.context),
  ];
}
