// The WebSocket API on --listen-client-http-urls (uWebSockets.js): many requests in flight on one
// connection, results checked against gRPC (the real etcdctl); errors as etcd words them; leases;
// watches; garbage frames close only their connection; `tsetcd bench --protocol ws`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { Packr } from 'msgpackr';
import { WsEtcdClient } from '../../src/main/api/ws/client.js';
import type { Init } from '../../src/main/api/proto/index.js';
import type * as pb from '../../src/main/api/proto/index.js';
import { runBench } from '../../src/main/bench/cli.js';
import type { JsonReport } from '../../src/main/bench/json-report.js';
import { GrpcError } from '../../src/main/errors.js';
import { etcdctl } from '../helpers/etcdctl.js';
import { freePort } from '../helpers/ports.js';
import { server, tempDir, type ServerProcess } from '../helpers/processes.js';

let root: string;
let member: ServerProcess;
let httpPort: number;
let client: WsEtcdClient;

before(async () => {
  root = tempDir('ws-api');
  httpPort = await freePort();
  member = await server('tsetcd', { dataDir: path.join(root, 'member'), flags: [`--listen-client-http-urls=http://127.0.0.1:${httpPort}`] });
  await member.start();
  client = await WsEtcdClient.connect(`ws://127.0.0.1:${httpPort}/ws`);
});

after(async () => {
  await client?.close();
  await member?.destroy();
  fs.rmSync(root, { recursive: true, force: true });
});

const buf = (s: string) => Buffer.from(s);

interface CtlKv {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
  version: number;
}

/** `etcdctl get --prefix -w json` over gRPC. */
async function grpcGet(prefix: string): Promise<{ revision: number; kvs: CtlKv[] }> {
  const r = await etcdctl(member.endpoint, ['get', prefix, '--prefix', '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { header: { revision: number }; kvs?: CtlKv[] };
  return { revision: out.header.revision, kvs: out.kvs ?? [] };
}

describe('requests', () => {
  test('2000 puts, ranges and txns in flight on one connection; results equal to gRPC', async () => {
    const puts = Array.from({ length: 2000 }, (_, i) => client.put({ key: buf(`/many/${String(i).padStart(4, '0')}`), value: buf(`value ${i}`) }));
    const reads = Array.from({ length: 200 }, () => client.range({ key: buf('/many/'), rangeEnd: buf('/many0'), countOnly: true }));
    const txns = Array.from({ length: 100 }, (_, i) =>
      client.txn({ success: [{ requestPut: { key: buf(`/many/txn/${i}`), value: buf('t') } }, { requestRange: { key: buf(`/many/txn/${i}`) } }] }),
    );
    const written = await Promise.all(puts);
    const revisions = new Set(written.map((r) => r.header?.revision));
    assert.equal(revisions.size, 2000, 'each put its own revision');
    for (const r of await Promise.all(reads)) assert.ok((r.count ?? 0) >= 0);
    for (const t of await Promise.all(txns)) {
      assert.equal(t.succeeded, true);
      assert.equal(t.responses?.[1]?.responseRange?.kvs?.[0]?.value?.toString(), 't');
    }

    const viaWs = await client.range({ key: buf('/many/'), rangeEnd: buf('/many0') });
    const viaGrpc = await grpcGet('/many/');
    assert.equal(viaWs.count, 2100);
    assert.equal(viaWs.header?.revision, viaGrpc.revision);
    assert.deepEqual(
      viaWs.kvs?.map((kv) => ({
        key: Buffer.from(kv.key!).toString('base64'),
        value: Buffer.from(kv.value!).toString('base64'),
        create_revision: kv.createRevision,
        mod_revision: kv.modRevision,
        version: kv.version,
      })),
      viaGrpc.kvs.map(({ key, value, create_revision, mod_revision, version }) => ({ key, value, create_revision, mod_revision, version })),
    );
  });

  test('header fields and etcd errors', async () => {
    const put = await client.put({ key: buf('/e/k'), value: buf('v') });
    // etcdctl prints the ids as JSON numbers, beyond a double's precision: read the digits.
    const status = (await etcdctl(member.endpoint, ['endpoint', 'status', '-w', 'json'])).stdout;
    assert.equal(put.header?.clusterId, BigInt(/"cluster_id":(\d+)/.exec(status)![1]!));
    assert.equal(put.header?.memberId, BigInt(/"member_id":(\d+)/.exec(status)![1]!));
    assert.ok((put.header?.raftTerm ?? 0) >= 1);

    const failure = async (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: unknown) => (assert.ok(e instanceof GrpcError), [e.code, e.message]));
    assert.deepEqual(await failure(client.put({ key: buf('') })), [3, 'etcdserver: key is not provided']);
    assert.deepEqual(await failure(client.range({ key: buf('/e/k'), revision: 1_000_000 })), [11, 'etcdserver: mvcc: required revision is a future revision']);
    assert.deepEqual(await failure(client.leaseRevoke({ ID: 424242n })), [5, 'etcdserver: requested lease not found']);
    assert.deepEqual(
      await failure(client.txn({ success: [{ requestPut: { key: buf('a') } }, { requestPut: { key: buf('a') } }] })),
      [3, 'etcdserver: duplicate key given in txn request'],
    );
    const deleted = await client.deleteRange({ key: buf('/e/k'), prevKv: true });
    assert.equal(deleted.deleted, 1);
    assert.equal(deleted.prevKvs?.[0]?.value?.toString(), 'v');
    const compacted = await client.compact({ revision: deleted.header!.revision! });
    assert.ok(compacted.header !== undefined);
    assert.deepEqual(await failure(client.range({ key: buf('/e/k'), revision: 2 })), [11, 'etcdserver: mvcc: required revision has been compacted']);
  });

  test('leases: grant, keepalive, time to live with keys, revoke', async () => {
    const grant = await client.leaseGrant({ TTL: 60 });
    const id = grant.ID!;
    assert.equal(grant.TTL, 60);
    await client.put({ key: buf('/lease/k'), value: buf('v'), lease: id });
    assert.equal((await client.leaseKeepAlive({ ID: id })).TTL, 60);
    const ttl = await client.leaseTimeToLive({ ID: id, keys: true });
    assert.equal(ttl.grantedTTL, 60);
    assert.deepEqual(ttl.keys?.map((k) => Buffer.from(k).toString()), ['/lease/k']);
    const ctl = await etcdctl(member.endpoint, ['lease', 'timetolive', id.toString(16), '--keys']);
    assert.match(ctl.stdout, /attached keys\(\[\/lease\/k\]\)/);
    await client.leaseRevoke({ ID: id });
    assert.equal((await client.range({ key: buf('/lease/k') })).count, 0);
    assert.equal((await client.leaseKeepAlive({ ID: id })).TTL, 0);
  });

  test('watch: create, events, cancel', async () => {
    const seen: Init<pb.WatchResponse>[] = [];
    const w = await client.watch({ key: buf('/w/'), rangeEnd: buf('/w0'), prevKv: true }, (res) => seen.push(res));
    await client.put({ key: buf('/w/a'), value: buf('1') });
    await client.put({ key: buf('/w/a'), value: buf('2') });
    await client.deleteRange({ key: buf('/w/a') });
    const events = () => seen.flatMap((r) => r.events ?? []);
    for (let i = 0; i < 100 && events().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      events().map((e) => [e.type ?? 0, e.kv?.value?.toString(), e.prevKv?.value?.toString()]),
      [[0, '1', undefined], [0, '2', '1'], [1, '', '2']],
    );
    await w.cancel();
    for (let i = 0; i < 100 && seen.at(-1)?.canceled !== true; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.at(-1)?.canceled, true);
    assert.equal(seen.at(-1)?.watchId, w.watchId);
  });
});

describe('protocol violations', () => {
  async function closeOf(send: (ws: WebSocket) => void): Promise<{ code: number; reason: string }> {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    send(ws);
    return closed;
  }

  test('garbage frames close that connection with a reason; the member keeps serving', async () => {
    const packr = new Packr({ useRecords: false });
    assert.deepEqual(await closeOf((ws) => ws.send('put foo bar')), { code: 1003, reason: 'text frames are not supported: send msgpack in binary frames' });
    assert.deepEqual((await closeOf((ws) => ws.send(Buffer.from([0xc1, 0xc1, 0xc1])))).code, 1007);
    assert.match((await closeOf((ws) => ws.send(packr.pack('hello')))).reason, /^invalid frame: a frame must be a map$/);
    assert.match((await closeOf((ws) => ws.send(packr.pack({ op: 'put', req: {} })))).reason, /needs a numeric id/);
    // Other connections and gRPC carry on.
    assert.equal((await client.put({ key: buf('/after'), value: buf('garbage') })).header !== undefined, true);
    const ctl = await etcdctl(member.endpoint, ['get', '/after', '--print-value-only']);
    assert.equal(ctl.stdout, 'garbage\n');
  });

  test('the HTTP endpoints and the gateway are served on the same port', async () => {
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    assert.equal(await health.text(), '{"health":"true"}');
    const range = await fetch(`http://127.0.0.1:${httpPort}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: buf('/after').toString('base64') }) });
    const body = (await range.json()) as { kvs: { value: string }[] };
    assert.equal(Buffer.from(body.kvs[0]!.value, 'base64').toString(), 'garbage');
    assert.match(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(), /^etcd_server_is_leader 1$/m);
  });
});

test('tsetcd bench put --protocol ws: the count the bench reports is what the member stored', async () => {
  const before = await client.range({ key: buf('/bench/'), rangeEnd: buf('/bench0'), countOnly: true });
  let stdout = '';
  let stderr = '';
  const code = await runBench(
    ['put', '--protocol', 'ws', '--endpoints', `127.0.0.1:${httpPort}`, '--total', '3000', '--clients', '100', '--conns', '2',
      '--sequential-keys', '--key-space-size', '3000', '--key-prefix', '/bench/', '--val-size', '64', '--json'],
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s), isTTY: false } },
  );
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as JsonReport;
  assert.equal(report.protocol, 'ws');
  assert.equal(report.requests, 3000);
  assert.equal(report.errors, 0);
  const after = await client.range({ key: buf('/bench/'), rangeEnd: buf('/bench0'), countOnly: true });
  assert.equal((after.count ?? 0) - (before.count ?? 0), 3000);
  assert.equal((after.header?.revision ?? 0) - (before.header?.revision ?? 0), 3000);
});
