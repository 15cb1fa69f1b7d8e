// The fault proxy on plain TCP: byte-exact relaying with backpressure, delay and jitter without
// reordering, bandwidth, loss stalls, per-source partitions (sources named by a tsetcd Hello or
// an etcd HTTP head), resets, and the HTTP control API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, test } from 'node:test';
import { startControlServer } from '../../src/main/faults/control.js';
import { FaultProxy, UNKNOWN_SOURCE } from '../../src/main/faults/proxy.js';
import { encodeHello, LinkKind, PROTOCOL_VERSION } from '../../src/main/peer/wire.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP server that echoes (or just collects) what it receives, per connection. */
async function sink(echo: boolean): Promise<{ port: number; received: Buffer[][] }> {
  const received: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    const mine: Buffer[] = [];
    received.push(mine);
    s.on('data', (d: Buffer) => {
      mine.push(d);
      if (echo) s.write(d);
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as net.AddressInfo).port, received };
}

async function proxyTo(port: number, extra: string[] = []): Promise<FaultProxy> {
  const routes = [{ name: 'b', listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port } }];
  for (const name of extra) routes.push({ name, listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port } });
  const proxy = await FaultProxy.start({ routes, seed: 7 });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function dial(proxy: FaultProxy, name = 'b'): Promise<net.Socket> {
  const port = Number(new URL(proxy.advertisedUrl(name)).port);
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  cleanups.push(() => void s.destroy());
  return s;
}

function readExactly(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= n) {
        s.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`closed after ${got} of ${n} bytes`)));
  });
}

const hello = (from: bigint, to: bigint) => encodeHello({ version: PROTOCOL_VERSION, clusterId: 1n, from, to, link: LinkKind.Raft });

test('relays bytes exactly both ways, with backpressure on a big transfer', async () => {
  const target = await sink(true);
  const proxy = await proxyTo(target.port);
  const s = await dial(proxy);
  const data = randomBytes(8 << 20);
  const echoed = readExactly(s, data.length);
  s.write(data);
  assert.ok((await echoed).equals(data));
});

test('delay is one-way per direction: an echo takes two delays', async () => {
  const target = await sink(true);
  const proxy = await proxyTo(target.port);
  proxy.setFaults({}, { delayMs: 40 });
  // Before identification a connection's source is unknown; the selector {} covers it too.
  const s = await dial(proxy);
  const started = performance.now();
  const echoed = readExactly(s, 4);
  s.write('ping');
  await echoed;
  const rtt = performance.now() - started;
  assert.ok(rtt >= 79 && rtt < 300, `round trip ${rtt} ms`);
});

test('jitter never reorders bytes', async () => {
  const target = await sink(false);
  const proxy = await proxyTo(target.port);
  proxy.setFaults({}, { delayMs: 5, jitterMs: 30 });
  const s = await dial(proxy);
  const parts: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(i);
    parts.push(b);
    s.write(b);
    if (i % 10 === 0) await sleep(1);
  }
  const expected = Buffer.concat(parts);
  for (let i = 0; i < 200 && Buffer.concat(target.received[0] ?? []).length < expected.length; i++) await sleep(10);
  assert.ok(Buffer.concat(target.received[0]!).equals(expected));
});

test('bandwidth limits throughput', async () => {
  const target = await sink(false);
  const proxy = await proxyTo(target.port);
  proxy.setFaults({}, { bandwidthBytesPerSec: 1 << 20 });
  const s = await dial(proxy);
  const started = performance.now();
  s.write(randomBytes(512 * 1024));
  while (Buffer.concat(target.received[0] ?? []).length < 512 * 1024) await sleep(5);
  const ms = performance.now() - started;
  assert.ok(ms >= 450 && ms < 1500, `512 KiB at 1 MiB/s took ${ms} ms`);
});

test('loss shows up as retransmission-like stalls', async () => {
  const target = await sink(true);
  const proxy = await proxyTo(target.port);
  proxy.setFaults({}, { lossProbability: 1, lossSpikeMs: 60 });
  const s = await dial(proxy);
  const started = performance.now();
  const echoed = readExactly(s, 1);
  s.write('x');
  await echoed;
  assert.ok(performance.now() - started >= 119);
});

test('tsetcd Hello names the source: a one-way drop partition cuts only that link, healing resets it', async () => {
  const target = await sink(false);
  const proxy = await proxyTo(target.port, ['a', 'c']);
  const ids = { a: 0xaan, b: 0xbbn, c: 0xccn };
  const fromA = await dial(proxy, 'b');
  fromA.write(hello(ids.a, ids.b));
  const fromC = await dial(proxy, 'b');
  fromC.write(hello(ids.c, ids.b));
  // Teach the proxy a's and c's ids: each is the `to` of a Hello on its own route.
  (await dial(proxy, 'a')).write(hello(ids.b, ids.a));
  (await dial(proxy, 'c')).write(hello(ids.b, ids.c));
  await sleep(50);
  proxy.partition([['a'], ['b']]);
  fromA.write('lost');
  fromC.write('kept');
  await sleep(50);
  const texts = target.received.map((chunks) => Buffer.concat(chunks).toString('latin1'));
  assert.ok(texts.some((t) => t.endsWith('kept')));
  assert.ok(!texts.some((t) => t.includes('lost')));
  const link = proxy.links().find((l) => l.from === 'a' && l.to === 'b')!;
  assert.equal(link.droppedBytes, 4);
  const closed = new Promise<void>((r) => fromA.once('close', () => r()));
  proxy.heal();
  await closed; // the stream lost bytes: its connection cannot go on
  assert.ok(!fromC.destroyed);
});

test('etcd HTTP heads name the source too; unknown dialers are "?"', async () => {
  const target = await sink(false);
  const proxy = await proxyTo(target.port, ['a']);
  const etcd = await dial(proxy, 'b');
  etcd.write('GET /raft/stream/message/aa HTTP/1.1\r\nHost: x\r\nX-Server-From: aa\r\nX-Raft-To: bb\r\n\r\n');
  const stranger = await dial(proxy, 'b');
  stranger.write('hello there, not a peer');
  (await dial(proxy, 'a')).write('POST /raft HTTP/1.1\r\nX-Server-From: bb\r\nX-Raft-To: aa\r\n\r\n');
  await sleep(50);
  const froms = proxy.links().filter((l) => l.to === 'b' && l.connections > 0).map((l) => l.from).sort();
  assert.deepEqual(froms, [UNKNOWN_SOURCE, 'a']);
});

test('hold partition delivers everything once healed; reset closes connections', async () => {
  const target = await sink(false);
  const proxy = await proxyTo(target.port);
  const s = await dial(proxy);
  proxy.partition([[UNKNOWN_SOURCE], ['b']], 'hold');
  s.write('held');
  await sleep(50);
  assert.equal(Buffer.concat(target.received[0] ?? []).length, 0);
  proxy.heal();
  await sleep(50);
  assert.equal(Buffer.concat(target.received[0]!).toString(), 'held');
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  assert.equal(proxy.resetConnections({ to: 'b' }), 1);
  await closed;
});

test('control API sets faults, partitions, heals and refuses bad requests', async () => {
  const target = await sink(true);
  const proxy = await proxyTo(target.port, ['a']);
  const control = await startControlServer(proxy, '127.0.0.1', 0);
  cleanups.push(() => control.close());
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${control.port}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  let r = await call('POST', '/faults', { to: 'b', faults: { delayMs: 25, jitterMs: 5 } });
  assert.equal(r.status, 200);
  r = await call('GET', '/links');
  const links = r.json.links as { from: string; to: string; faults: { delayMs: number } }[];
  assert.ok(links.some((l) => l.from === 'a' && l.to === 'b' && l.faults.delayMs === 25));
  assert.equal((await call('POST', '/partition', { groups: [['a'], ['b']] })).status, 200);
  assert.equal((await call('POST', '/heal')).status, 200);
  assert.equal((await call('POST', '/faults', { faults: { delayMs: -1 } })).status, 400);
  assert.equal((await call('POST', '/faults', { faults: { nonsense: 1 } })).status, 400);
  assert.equal((await call('POST', '/faults', { to: 'zz', faults: {} })).status, 400);
  assert.equal((await call('POST', '/clear')).status, 200);
  assert.equal(proxy.links().every((l) => l.faults.delayMs === 0), true);
});
