// The wire format alone: messages survive encoding bit for bit, frames survive any split of
// the byte stream, and bytes that are not a valid frame only ever raise WireError.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FRAME_HEADER_BYTES, FrameReader, FrameTooLargeError, FrameType } from '../../src/main/peer/frame.js';
import {
  decodeFrame,
  encodeHello,
  encodeMessages,
  encodePing,
  encodeReject,
  encodeSnapshotHeader,
  LinkKind,
  PROTOCOL_VERSION,
  RejectCode,
  WireError,
  type PeerFrame,
} from '../../src/main/peer/wire.js';
import { MessageType, type Message } from '../../src/main/raft/types.js';
import { appMessage, CLUSTER, ID_A, ID_B, plain } from './harness.js';

/** Splits a byte stream into frames the way a socket would hand them over: in arbitrary pieces. */
function readAll(bytes: Buffer, pieceSizes: number[]): { type: number; payload: Buffer }[] {
  const frames: { type: number; payload: Buffer }[] = [];
  const reader = new FrameReader({ onFrame: (type, payload) => frames.push({ type, payload: Buffer.from(payload) }) }, 1 << 20);
  let off = 0;
  for (let i = 0; off < bytes.length; i++) {
    const n = pieceSizes[i % pieceSizes.length]!;
    reader.push(bytes.subarray(off, off + n));
    off += n;
  }
  return frames;
}

test('Raft messages round-trip: uint64 ids, entries, snapshot meta, context', () => {
  const messages: Message[] = [appMessage(ID_A, ID_B, 0), appMessage(ID_B, ID_A, 1, 0), appMessage(ID_A, ID_B, 2, 5, 1000)];
  messages.push({
    ...appMessage(ID_A, ID_B, 3, 0),
    type: MessageType.Snap,
    term: 2 ** 53 - 1,
    snapshot: { index: 2 ** 33, term: 9, conf: { voters: [ID_A, ID_B, 0n, 1n], learners: [0xffff_ffff_ffff_ffffn] } },
  });
  const frame = encodeMessages(messages, 0, messages.length);
  assert.equal(frame.readUInt32BE(0), frame.length - FRAME_HEADER_BYTES);
  const decoded = decodeFrame(frame[4]!, frame.subarray(FRAME_HEADER_BYTES));
  assert.equal(decoded.type, FrameType.Messages);
  assert.deepEqual(decoded.messages.map(plain), messages.map(plain));
  assert.equal(typeof decoded.messages[0]!.from, 'bigint');
  assert.ok(decoded.messages[0]!.entries[0]!.data instanceof Uint8Array);
});

test('frames survive any split of the stream, down to single bytes', () => {
  const frames = [
    encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from: ID_A, to: ID_B, link: LinkKind.Raft }),
    encodeMessages([appMessage(ID_A, ID_B, 1)], 0, 1),
    encodePing(FrameType.Ping, 1234.5),
    encodeReject(RejectCode.ClusterMismatch, 'x'.repeat(2000)),
    encodeSnapshotHeader({ ...appMessage(ID_A, ID_B, 1, 0), type: MessageType.Snap, snapshot: { index: 5, term: 1, conf: { voters: [ID_A], learners: [] } } }, 1 << 30),
  ];
  const stream = Buffer.concat(frames);
  for (const pieces of [[1], [2, 3], [7], [64], [stream.length]]) {
    const got = readAll(stream, pieces);
    assert.equal(got.length, frames.length);
    const decoded = got.map((f) => decodeFrame(f.type, f.payload));
    assert.deepEqual(decoded.map((f) => f.type), [FrameType.Hello, FrameType.Messages, FrameType.Ping, FrameType.Reject, FrameType.SnapshotHeader]);
    assert.deepEqual((decoded[0] as Extract<PeerFrame, { type: FrameType.Hello }>).hello, {
      version: PROTOCOL_VERSION,
      clusterId: CLUSTER,
      from: ID_A,
      to: ID_B,
      link: LinkKind.Raft,
    });
    assert.equal((decoded[2] as Extract<PeerFrame, { type: FrameType.Ping }>).sentAt, 1234.5);
    assert.equal((decoded[3] as Extract<PeerFrame, { type: FrameType.Reject }>).detail.length, 512);
  }
});

test('a frame header claiming more than the limit is refused before anything is buffered', () => {
  const reader = new FrameReader({ onFrame: () => assert.fail('no frame expected') }, 100);
  assert.throws(() => reader.push(Buffer.from('GET / HTTP/1.1\r\n')), FrameTooLargeError);
});

test('random payloads for every frame type raise WireError or decode, nothing else', () => {
  let rejected = 0;
  for (let i = 0; i < 20_000; i++) {
    const type = 1 + (i % 11);
    const payload = randomBytes(i % 64);
    try {
      decodeFrame(type, payload);
    } catch (err) {
      assert.ok(err instanceof WireError, `frame type ${type}: ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 10_000);
});

test('well-formed msgpack with the wrong shape is refused', () => {
  const good = encodeMessages([appMessage(ID_A, ID_B, 1)], 0, 1).subarray(FRAME_HEADER_BYTES);
  // Flip each byte in turn: every result either decodes to a valid message or is a WireError.
  for (let i = 0; i < good.length; i++) {
    const bad = Buffer.from(good);
    bad[i] = bad[i]! ^ 0x5a;
    try {
      const frame = decodeFrame(FrameType.Messages, bad);
      assert.equal(frame.type, FrameType.Messages);
    } catch (err) {
      assert.ok(err instanceof WireError, String(err));
    }
  }
});
