// Transports on real loopback sockets: batched delivery in order, peers that start late or
// restart, links refused at the handshake, and garbage that must not hurt the listener.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { pino } from 'pino';
import { FrameType, frameHeader } from '../../src/main/peer/frame.js';
import { encodeHello, encodeMessages, LinkKind, PROTOCOL_VERSION } from '../../src/main/peer/wire.js';
import { freePort } from '../helpers/ports.js';
import {
  appMessage,
  closeAll,
  cluster,
  CLUSTER,
  FakePeer,
  ID_A,
  ID_B,
  ID_C,
  member,
  nextTurn,
  plain,
  rawClient,
  resendUntilReceived,
  seqsFrom,
  sleep,
  waitFor,
} from './harness.js';

afterEach(closeAll);

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

test('two members exchange many batched messages both ways, in order and intact', async () => {
  const [a, b] = await cluster([ID_A, ID_B]);
  const perTurn = 200;
  const turns = 25;
  for (let t = 0; t < turns; t++) {
    a!.transport.send(range(perTurn, t * perTurn).map((s) => appMessage(ID_A, ID_B, s)));
    b!.transport.send(range(perTurn, t * perTurn).map((s) => appMessage(ID_B, ID_A, s, 1, 300)));
    await nextTurn();
  }
  const total = perTurn * turns;
  await waitFor('all messages', () => a!.received.length === total && b!.received.length === total);
  assert.deepEqual(b!.received.map(plain), range(total).map((s) => plain(appMessage(ID_A, ID_B, s))));
  assert.deepEqual(a!.received.map(plain), range(total).map((s) => plain(appMessage(ID_B, ID_A, s, 1, 300))));
  const stats = a!.transport.stats();
  assert.equal(stats.sent, total + 1); // and the heartbeat that opened the link
  assert.equal(stats.received, total + 1);
  assert.equal(stats.dropped + stats.decodeErrors + stats.refused + stats.queued, 0);
});

test('three members: every link delivers its own stream in order', async () => {
  const ids = [ID_A, ID_B, ID_C];
  const members = await cluster(ids);
  const n = 3000;
  for (let s = 0; s < n; s += 100) {
    for (const m of members) {
      m.transport.send(ids.filter((to) => to !== m.id).flatMap((to) => range(100, s).map((seq) => appMessage(m.id, to, seq, 2, 64))));
    }
    await nextTurn();
  }
  await waitFor('all messages', () => members.every((m) => m.received.length === 2 * n));
  for (const m of members) {
    for (const from of ids.filter((f) => f !== m.id)) {
      assert.deepEqual(seqsFrom(m, from), range(n), `${from.toString(16)} → ${m.id.toString(16)}`);
    }
    assert.deepEqual(m.received.map(plain), m.received.map((r) => plain(appMessage(r.from, m.id, r.index, 2, 64))));
  }
});

test('messages sent in one turn go out as one frame', async () => {
  const fake = new FakePeer();
  const a = member(ID_A, await freePort(), new Map([[ID_B, await fake.listen()]]));
  await a.transport.start();
  await waitFor('handshake', () => fake.frames.length === 1);
  for (let s = 0; s < 500; s++) a.transport.send([appMessage(ID_A, ID_B, s, 1, 8)]);
  await waitFor('500 messages', () => fake.messages().length === 500);
  assert.equal(fake.messageFrames(), 1);
  assert.deepEqual(
    fake.messages().map((m) => m.index),
    range(500),
  );
});

test('a peer that starts later gets what was queued; after a restart it gets later messages, not those sent while it was down', async () => {
  const [portA, portB] = [await freePort(), await freePort()];
  const a = member(ID_A, portA, new Map([[ID_B, portB]]), { pingIntervalMs: 50 });
  await a.transport.start();
  a.transport.send(range(10).map((s) => appMessage(ID_A, ID_B, s)));
  await sleep(300); // a few failed dials and backoffs
  assert.ok(a.unreachable.includes(ID_B), 'a failed dial reports the peer unreachable');
  const b = member(ID_B, portB, new Map([[ID_A, portA]]));
  await b.transport.start();
  await waitFor('queued messages', () => b.received.length === 10);
  assert.deepEqual(seqsFrom(b, ID_A), range(10));
  await waitFor('an RTT sample', () => a.transport.rtt(ID_B).length > 0);
  assert.ok(a.transport.rtt(ID_B).every((s) => s >= 0 && s < 1));

  const reports = a.unreachable.length;
  await b.transport.close();
  await waitFor('the link to b lost', () => a.unreachable.length > reports);
  // Sent while the link that was open is down: dropped, never delivered late (a former leader's
  // heartbeats would mislead a restarted member).
  const droppedBefore = a.transport.stats().dropped;
  a.transport.send(range(10, 20).map((s) => appMessage(ID_A, ID_B, s)));
  assert.equal(a.transport.stats().dropped, droppedBefore + 10);
  const b2 = member(ID_B, portB, new Map([[ID_A, portA]]));
  await b2.transport.start();
  await resendUntilReceived(a, b2, 1000);
  assert.ok(seqsFrom(b2, ID_A).every((s) => s >= 1000), 'nothing sent while the link was down');
  a.transport.send(range(100, 5000).map((s) => appMessage(ID_A, ID_B, s)));
  await waitFor('later messages', () => b2.received.some((m) => m.index === 5099));
  const seqs = seqsFrom(b2, ID_A);
  assert.deepEqual(seqs.slice(-100), range(100, 5000));
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'in order');
});

test('links from another cluster, for another member id, or from a stranger are refused and counted', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
  const [portA, portX] = [await freePort(), await freePort()];
  const a = member(ID_A, portA, new Map([[ID_B, portX]]), { log });
  await a.transport.start();
  const otherCluster = member(ID_B, await freePort(), new Map([[ID_A, portA]]), { clusterId: 0xabcn });
  const wrongId = member(ID_B, await freePort(), new Map([[ID_C, portA]]));
  const stranger = member(ID_C, await freePort(), new Map([[ID_A, portA]]));
  const dialers = [otherCluster, wrongId, stranger];
  await Promise.all(dialers.map((d) => d.transport.start()));
  for (const d of dialers) d.transport.send([appMessage(d.id, d === wrongId ? ID_C : ID_A, 1)]);
  await waitFor('three refusals', () => a.transport.stats().refused >= 3);
  await waitFor('unreachable reports', () => dialers.every((d) => d.unreachable.length > 0));
  assert.equal(a.received.length, 0);
  assert.equal(a.transport.stats().received, 0);
  const refusals = lines.map((l) => JSON.parse(l) as Record<string, string>).filter((l) => l.msg === 'refused peer link');
  assert.ok(refusals.some((l) => l.remoteClusterId === 'abc' && l.localClusterId === CLUSTER.toString(16)));
  assert.ok(refusals.some((l) => l.requestedMemberId === ID_C.toString(16) && l.localMemberId === ID_A.toString(16)));
  assert.ok(refusals.some((l) => l.remoteMemberId === ID_C.toString(16) && l.remoteClusterId === CLUSTER.toString(16)));
});

test('garbage on the listener is counted and closed, never delivered, and the listener keeps serving', async () => {
  const [a, b] = await cluster([ID_A, ID_B]);
  const send = async (bytes: Buffer): Promise<void> => {
    const c = await rawClient(a!.port);
    c.socket.write(bytes);
    await c.closed;
  };
  const hello = encodeHello({ version: PROTOCOL_VERSION, clusterId: CLUSTER, from: ID_B, to: ID_A, link: LinkKind.Raft });
  await send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await send(Buffer.concat([frameHeader(FrameType.Hello, 8), Buffer.from('garbage!')]));
  await send(Buffer.concat([frameHeader(FrameType.Messages, 3), Buffer.from([1, 2, 3])]));
  // A good handshake, then a batch that does not decode, then one with a message for someone else.
  await send(Buffer.concat([hello, frameHeader(FrameType.Messages, 4), Buffer.from([0x93, 0xc1, 0xc1, 0xc1])]));
  await send(Buffer.concat([hello, encodeMessages([appMessage(ID_B, ID_C, 1)], 0, 1)]));
  assert.equal(a!.transport.stats().decodeErrors, 5);
  assert.equal(a!.received.length, 0);

  // The raw handshakes as B took over b's link to a: b redials.
  await resendUntilReceived(b!, a!, 1000);
  b!.transport.send(range(50).map((s) => appMessage(ID_B, ID_A, s)));
  await waitFor('messages after the garbage', () => a!.received.at(-1)?.index === 49);
  assert.deepEqual(seqsFrom(a!, ID_B).slice(-50), range(50));
});

test('removing a peer drops its queue and closes its links; adding it back reconnects', async () => {
  const [a, b] = await cluster([ID_A, ID_B]);
  a!.transport.send([appMessage(ID_A, ID_B, 0)]);
  await waitFor('first message', () => b!.received.length === 1);
  a!.transport.removePeer(ID_B);
  a!.transport.send([appMessage(ID_A, ID_B, 1)]);
  assert.equal(a!.transport.stats().dropped, 1);
  a!.transport.addPeer(ID_B, [`http://127.0.0.1:${b!.port}`]);
  a!.transport.send([appMessage(ID_A, ID_B, 2)]);
  await waitFor('message after re-adding', () => b!.received.length === 2);
  assert.deepEqual(seqsFrom(b!, ID_A), [0, 2]);
});

test('the first reachable URL is used, and updatePeer moves the link', async () => {
  const [portA, portB1, portB2, dead] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const b = member(ID_B, portB1, new Map([[ID_A, portA]]), { listenUrls: [`http://127.0.0.1:${portB1}`, `http://127.0.0.1:${portB2}`] });
  await b.transport.start();
  const a = member(ID_A, portA, new Map([[ID_B, dead]]));
  a.transport.updatePeer(ID_B, [`http://127.0.0.1:${dead}`, `http://127.0.0.1:${portB2}`]);
  await a.transport.start();
  a.transport.send(range(5).map((s) => appMessage(ID_A, ID_B, s)));
  await waitFor('messages over the second URL', () => b.received.length === 5);
  a.transport.updatePeer(ID_B, [`http://127.0.0.1:${portB1}`]);
  const next = await resendUntilReceived(a, b, 5);
  a.transport.send(range(5, next).map((s) => appMessage(ID_A, ID_B, s)));
  await waitFor('messages over the new URL', () => b.received.at(-1)?.index === next + 4);
  const seqs = seqsFrom(b, ID_A);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'in order');
});
