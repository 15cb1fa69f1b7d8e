// WsSession in isolation (a fake socket, operations that answer when told): the in-flight bound,
// holding requests while the socket is backed up, and garbage frames closing the connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import type { WsOperations } from '../../src/main/api/ws/operations.js';
import { decodeServerFrame, encodeRequest, type ServerFrame } from '../../src/main/api/ws/protocol.js';
import { WsSession, type WsSocket } from '../../src/main/api/ws/session.js';
import type { WatchHub } from '../../src/main/watch/hub.js';

class FakeSocket implements WsSocket {
  readonly frames: ServerFrame[] = [];
  buffered = 0;
  ended: { code: number; reason: string } | undefined;
  send(frame: Uint8Array): void {
    this.frames.push(decodeServerFrame(frame));
  }
  cork(fn: () => void): void {
    fn();
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  end(code: number, reason: string): void {
    this.ended = { code, reason };
  }
}

/** Puts wait until released; every other operation is not expected here. */
function heldPuts(): { ops: WsOperations; started: () => number; releaseAll: () => void } {
  const waiting: (() => void)[] = [];
  const unexpected = () => Promise.reject(new Error('unexpected operation'));
  const ops: WsOperations = {
    put: (req) =>
      new Promise((resolve) => waiting.push(() => resolve({ header: { revision: 1 }, prevKv: { key: req.key } }))),
    range: unexpected,
    deleteRange: unexpected,
    txn: unexpected,
    compact: unexpected,
    leaseGrant: unexpected,
    leaseRevoke: unexpected,
    leaseKeepAlive: unexpected,
    leaseTimeToLive: unexpected,
  };
  return { ops, started: () => waiting.length, releaseAll: () => waiting.splice(0).forEach((release) => release()) };
}

const noHub = (): WatchHub => {
  throw new Error('no watches here');
};

/** Long enough for replies to settle and the session's batched send to run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 10));
const put = (id: number) => encodeRequest(id, 'put', { key: Buffer.from(`k${id}`), value: Buffer.from('v') });
const asArrayBuffer = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

test('requests beyond the in-flight bound are refused with "too many requests"; the others complete', async () => {
  const socket = new FakeSocket();
  const puts = heldPuts();
  const session = new WsSession(socket, { operations: puts.ops, watchHub: noHub }, { maxInFlight: 3, highWaterBytes: 1 << 20 });
  for (let id = 1; id <= 5; id++) session.onMessage(asArrayBuffer(put(id)), true);
  await turn();
  assert.equal(puts.started(), 3);
  assert.deepEqual(
    socket.frames.map((f) => [f.id, f.err]),
    [
      [4, { code: 8, message: 'etcdserver: too many requests' }],
      [5, { code: 8, message: 'etcdserver: too many requests' }],
    ],
  );
  puts.releaseAll();
  await turn();
  assert.deepEqual(socket.frames.slice(2).map((f) => f.id), [1, 2, 3]);
  // Room again: the next request runs.
  session.onMessage(asArrayBuffer(put(6)), true);
  assert.equal(puts.started(), 1);
});

test('while the socket is backed up requests are held, and start once it drains', async () => {
  const socket = new FakeSocket();
  const puts = heldPuts();
  const session = new WsSession(socket, { operations: puts.ops, watchHub: noHub }, { maxInFlight: 10, highWaterBytes: 100 });
  socket.buffered = 1000;
  session.onMessage(asArrayBuffer(put(1)), true);
  session.onMessage(asArrayBuffer(put(2)), true);
  assert.equal(puts.started(), 0);
  socket.buffered = 0;
  session.onDrain();
  assert.equal(puts.started(), 2);
  puts.releaseAll();
  await turn();
  assert.deepEqual(socket.frames.map((f) => f.id), [1, 2]);
  assert.deepEqual((socket.frames[0]!.res as { prevKv: { key: Buffer } }).prevKv.key.toString(), 'k1');
});

test('requests that cannot run are answered with an error; the connection stays', async () => {
  const socket = new FakeSocket();
  const session = new WsSession(socket, { operations: heldPuts().ops, watchHub: noHub }, { maxInFlight: 10, highWaterBytes: 100 });
  const packr = new Packr({ useRecords: false });
  session.onMessage(asArrayBuffer(packr.pack({ id: 1, op: 'explode', req: {} })), true);
  session.onMessage(asArrayBuffer(packr.pack({ id: 2, op: 'put', req: { key: 5 } })), true);
  session.onMessage(asArrayBuffer(packr.pack({ id: 3, op: 'put', req: [] })), true);
  await turn();
  assert.deepEqual(
    socket.frames.map((f) => [f.id, f.err]),
    [
      [1, { code: 12, message: 'ws: unknown op "explode"' }],
      [2, { code: 3, message: 'ws: key must be bytes' }],
      [3, { code: 3, message: 'ws: req must be a map' }],
    ],
  );
  assert.equal(socket.ended, undefined);
});

test('garbage frames close the connection with a reason', () => {
  const packr = new Packr({ useRecords: false });
  const cases: [ArrayBuffer, boolean, number, RegExp][] = [
    [asArrayBuffer(Buffer.from('hello')), false, 1003, /text frames are not supported/],
    [asArrayBuffer(Buffer.from([0xc1, 0xff, 0x00])), true, 1007, /invalid frame: not msgpack/],
    [asArrayBuffer(packr.pack([1, 2, 3])), true, 1007, /invalid frame: a frame must be a map/],
    [asArrayBuffer(packr.pack({ op: 'put' })), true, 1007, /invalid frame: a request needs a numeric id/],
  ];
  for (const [data, binary, code, reason] of cases) {
    const socket = new FakeSocket();
    const session = new WsSession(socket, { operations: heldPuts().ops, watchHub: noHub }, { maxInFlight: 10, highWaterBytes: 100 });
    session.onMessage(data, binary);
    assert.equal(socket.ended?.code, code);
    assert.match(socket.ended?.reason ?? '', reason);
    // Nothing more is read from a closed session.
    session.onMessage(asArrayBuffer(put(1)), true);
    assert.equal(socket.frames.length, 0);
  }
});
