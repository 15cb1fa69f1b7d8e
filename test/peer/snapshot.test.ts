// Snapshots over their own link: a 50 MB file arrives byte for byte and fsynced before the
// sender's promise resolves; a transfer cut mid-way rejects and leaves no partial file; a
// corrupted transfer is refused.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { PeerError } from '../../src/main/peer/errors.js';
import { FrameReader, FrameType, frameHeader } from '../../src/main/peer/frame.js';
import { decodeFrame, encodeHello, encodeSnapshotEnd, encodeSnapshotHeader, LinkKind, PROTOCOL_VERSION, RejectCode, type PeerFrame } from '../../src/main/peer/wire.js';
import { MessageType, type Message, type NodeId } from '../../src/main/raft/types.js';
import { freePort } from '../helpers/ports.js';
import { appMessage, closeAll, cluster, CLUSTER, ID_A, ID_B, ID_C, member, plain, rawClient, tempDir, waitFor } from './harness.js';
import { TcpProxy } from './tcp-proxy.js';

afterEach(closeAll);

const MB = 1 << 20;

function snapMessage(from: NodeId, to: NodeId, index: number): Message {
  return {
    ...appMessage(from, to, 0, 0),
    type: MessageType.Snap,
    term: 4,
    index: 0,
    snapshot: { index, term: 4, conf: { voters: [ID_A, ID_B, ID_C], learners: [] } },
  };
}

/** A file of random bytes, written in pieces; returns its path and SHA-256. */
function randomFile(bytes: number): { file: string; sha256: string } {
  const file = path.join(tempDir('out'), 'db');
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'w');
  for (let left = bytes; left > 0; left -= 4 * MB) {
    const piece = randomBytes(Math.min(left, 4 * MB));
    hash.update(piece);
    fs.writeSync(fd, piece);
  }
  fs.closeSync(fd);
  return { file, sha256: hash.digest('hex') };
}

const sha256Of = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('a 50 MB snapshot is streamed, fsynced, acknowledged and delivered intact', async (t) => {
  const { file, sha256 } = randomFile(50 * MB);
  const [a, b] = await cluster([ID_A, ID_B]);
  const msg = snapMessage(ID_A, ID_B, 0x1_0000_0001);
  const started = performance.now();
  await a!.transport.sendSnapshot(msg, file);
  t.diagnostic(`50 MB snapshot acknowledged in ${Math.round(performance.now() - started)} ms`);
  // The ack is written before onSnapshot runs, so the delivery may trail the resolve by a turn.
  await waitFor('delivery', () => b!.snapshots.length === 1);
  const got = b!.snapshots[0]!;
  assert.deepEqual(plain(got.msg), plain(msg));
  assert.equal(path.dirname(got.file), b!.snapDir);
  assert.equal(path.basename(got.file), '0000000100000001.snap.db');
  assert.equal(sha256Of(got.file), sha256);
  assert.deepEqual(fs.readdirSync(b!.snapDir), ['0000000100000001.snap.db']);
});

test('a snapshot cut mid-way by the receiver closing rejects, and no partial file is left', async () => {
  const { file } = randomFile(50 * MB);
  const [portA, portB] = [await freePort(), await freePort()];
  const b = member(ID_B, portB, new Map([[ID_A, portA]]));
  await b.transport.start();
  let cut: Promise<void> | undefined;
  const proxy = new TcpProxy(portB, (forwarded) => {
    if (forwarded < 10 * MB || cut !== undefined) return;
    proxy.pause();
    cut = b.transport.close();
  });
  const a = member(ID_A, portA, new Map([[ID_B, await proxy.listen()]]));
  await a.transport.start();
  await assert.rejects(a.transport.sendSnapshot(snapMessage(ID_A, ID_B, 77), file), (err: unknown) => {
    assert.ok(err instanceof PeerError);
    assert.equal(err.code, 'broken');
    return true;
  });
  assert.ok(cut !== undefined, 'the transfer was cut');
  await cut;
  assert.deepEqual(fs.readdirSync(b.snapDir), []);
  assert.equal(b.snapshots.length, 0);
});

test('a snapshot whose bytes do not match its checksum is refused and removed', async () => {
  const [a] = await cluster([ID_A, ID_B]);
  const c = await rawClient(a!.port);
  const frames: PeerFrame[] = [];
  const reader = new FrameReader({ onFrame: (type, payload) => frames.push(decodeFrame(type, payload)) }, 4096);
  c.socket.on('data', (d: Buffer) => reader.push(d));
  const data = randomBytes(3 * MB);
  c.socket.write(encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from: ID_B, to: ID_A, link: LinkKind.Snapshot }));
  c.socket.write(encodeSnapshotHeader(snapMessage(ID_B, ID_A, 9), data.length));
  for (let off = 0; off < data.length; off += MB) {
    c.socket.write(frameHeader(FrameType.SnapshotChunk, MB));
    c.socket.write(data.subarray(off, off + MB));
  }
  c.socket.write(encodeSnapshotEnd(Buffer.alloc(32)));
  await waitFor('the verdict', () => frames.length === 2);
  assert.equal(frames[0]!.type, FrameType.Accept);
  assert.equal(frames[1]!.type, FrameType.Reject);
  assert.equal((frames[1] as Extract<PeerFrame, { type: FrameType.Reject }>).code, RejectCode.BadSnapshot);
  c.socket.destroy();
  await waitFor('partial file removed', () => fs.readdirSync(a!.snapDir).length === 0);
  assert.equal(a!.snapshots.length, 0);
});

test('a snapshot to a peer that is down rejects as unreachable', async () => {
  const { file } = randomFile(1000);
  const a = member(ID_A, await freePort(), new Map([[ID_B, await freePort()]]));
  await a.transport.start();
  await assert.rejects(a.transport.sendSnapshot(snapMessage(ID_A, ID_B, 1), file), { name: 'PeerError', code: 'unreachable' });
});
