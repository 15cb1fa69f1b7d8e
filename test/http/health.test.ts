// Health endpoints with and without a leader: a 2-member cluster of tsetcd and one of real etcd
// lose a member (so no quorum, no leader); /health answers as etcd's does. /livez and /readyz
// (the probes etcd backported from 3.5 to 3.4.30; the 3.4.23 here has none) are checked on
// tsetcd alone. Peer round-trip times show in /metrics while both members run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startCluster, type ServerProcess } from '../helpers/processes.js';

let etcd: ServerProcess[] = [];
let tsetcd: ServerProcess[] = [];

before(async () => {
  [etcd, tsetcd] = await Promise.all([startCluster('etcd', 2), startCluster('tsetcd', 2)]);
});

after(async () => {
  for (const m of [...etcd, ...tsetcd]) await m.destroy();
  for (const cluster of [etcd, tsetcd]) if (cluster[0] !== undefined) fs.rmSync(path.dirname(cluster[0].dataDir), { recursive: true, force: true });
});

interface Reply {
  status: number;
  contentType: string | null;
  body: string;
}

async function get(s: ServerProcess, urlPath: string): Promise<Reply> {
  const res = await fetch(s.clientUrl + urlPath);
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('with a leader: healthy everywhere; peer round trips in /metrics', async () => {
  for (const s of [...etcd, ...tsetcd]) assert.deepEqual(await get(s, '/health'), { status: 200, contentType: 'text/plain; charset=utf-8', body: '{"health":"true"}' });
  const t = tsetcd[0]!;
  assert.deepEqual(await get(t, '/livez'), { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok\n' });
  assert.equal((await get(t, '/readyz?verbose')).body, '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n');
  const peerId = (await (await fetch(`${t.clientUrl}/v3/cluster/member/list`, { method: 'POST', body: '{}' })).json()) as {
    header: { member_id: string };
    members: { ID: string }[];
  };
  const other = BigInt(peerId.members.find((m) => m.ID !== peerId.header.member_id)!.ID).toString(16);
  const metrics = await until('a peer round trip', () => get(t, '/metrics'), (r) => new RegExp(`etcd_network_peer_round_trip_time_seconds_count\\{To="${other}"\\} [1-9]`).test(r.body));
  assert.match(metrics.body, /^# TYPE etcd_network_peer_round_trip_time_seconds histogram$/m);
  assert.match(metrics.body, new RegExp(`^etcd_network_peer_round_trip_time_seconds_bucket\\{le="0.0001",To="${other}"\\} \\d+$`, 'm'));
});

test('no leader: /health 503 {"health":"false"} as etcd; the probes tell which check fails', async () => {
  await Promise.all([etcd[1]!.stop(), tsetcd[1]!.stop()]);
  const unhealthy = (r: Reply) => r.status === 503;
  const [e, t] = await Promise.all([etcd[0]!, tsetcd[0]!].map((s) => until('/health to fail', () => get(s, '/health'), unhealthy)));
  assert.deepEqual(t, e);
  assert.deepEqual(t, { status: 503, contentType: 'text/plain; charset=utf-8', body: '{"health":"false"}\n' });

  const m = tsetcd[0]!;
  assert.match((await get(m, '/metrics')).body, /^etcd_server_has_leader 0$/m);
  assert.deepEqual(await get(m, '/health?serializable=true'), { status: 200, contentType: 'text/plain; charset=utf-8', body: '{"health":"true"}' });
  assert.equal((await get(m, '/livez')).body, 'ok\n');
  const ready = await get(m, '/readyz');
  assert.equal(ready.status, 503);
  assert.equal(ready.body, '[+]data_corruption ok\n[+]serializable_read ok\n[-]linearizable_read failed: etcdserver: no leader\n\n');
  assert.equal((await get(m, '/readyz?exclude=linearizable_read')).body, 'ok\n');
  assert.equal((await get(m, '/readyz/serializable_read')).status, 200);
  assert.equal((await get(m, '/readyz/linearizable_read')).status, 503);
  assert.equal((await get(m, '/readyz/nope')).status, 404);
  const counters = (await get(m, '/metrics')).body;
  assert.match(counters, /^etcd_server_health_failures [1-9]\d*$/m);
  assert.match(counters, /^etcd_server_healthcheck\{type="readyz",name="linearizable_read"\} 0$/m);
});
