// Leases with real etcdctl and the etcd3 client, side by side with real etcd; and on a
// 3-member cluster, a lease's keys expire once, everywhere, across a leader failover.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { etcdctl } from '../helpers/etcdctl.js';
import { normalize } from '../helpers/normalize.js';
import { startCluster, type ServerProcess } from '../helpers/processes.js';
import { besideEtcd } from '../helpers/beside-etcd.js';
import { clusterStatus, waitFor } from '../helpers/cluster.js';

/**
 * Lease ids differ between servers: replace each id by its order of appearance. The seconds
 * remaining depend on when each command ran; etcd lists attached keys in Go's map order (random).
 */
function normalizeLeases(text: string): string {
  const ids = new Map<string, string>();
  return normalize(text)
    .replace(/remaining\(\d+s\)/g, 'remaining(<s>)')
    .replace(/attached keys\(\[([^\]]*)\]\)/g, (_, keys: string) => `attached keys([${keys.split(' ').sort().join(' ')}])`)
    .replace(/\b[0-9a-f]{16}\b|\blease [0-9a-f]+\b/g, (m) => {
      const key = m.replace('lease ', '');
      if (!ids.has(key)) ids.set(key, `<lease${ids.size + 1}>`);
      return m.startsWith('lease ') ? `lease ${ids.get(key)}` : ids.get(key)!;
    });
}

describe('leases, one member, beside real etcd', () => {
  const servers = besideEtcd();

  /** Runs the same etcdctl session on both; lease ids are captured per server. */
  async function session(server: ServerProcess): Promise<string> {
    const out: string[] = [];
    const run = async (...args: string[]) => {
      const r = await etcdctl(server.endpoint, args);
      out.push(`$ ${args.join(' ')}\n${r.stdout}${r.stderr.replace(/\{"level":"warn".*\n/g, '')}`);
      return r.stdout;
    };
    const granted = await run('lease', 'grant', '60');
    const id = /lease ([0-9a-f]+) granted/.exec(granted)![1]!;
    await run('put', '--lease=' + id, 'leased/a', '1');
    await run('put', '--lease=' + id, 'leased/b', '2');
    await run('put', 'plain', '3');
    await run('lease', 'timetolive', id, '--keys');
    await run('lease', 'keep-alive', '--once', id);
    await run('lease', 'list');
    await run('put', '--lease=abcdef', 'nolease', 'x');
    await run('lease', 'revoke', id);
    await run('get', 'leased', '--prefix');
    await run('get', 'plain');
    await run('lease', 'timetolive', id);
    await run('lease', 'revoke', id);
    await run('lease', 'keep-alive', '--once', id);
    const short = await run('lease', 'grant', '1');
    await run('lease', 'timetolive', /lease ([0-9a-f]+) granted/.exec(short)![1]!);
    return out.join('');
  }

  test('etcdctl lease grant, timetolive --keys, keep-alive, list, revoke: same transcript as etcd', async () => {
    const [want, got] = await Promise.all([session(servers.etcd), session(servers.tsetcd)]);
    assert.equal(normalizeLeases(got), normalizeLeases(want));
  });

  test('an expired lease takes its keys with it (etcd3 client)', async () => {
    for (const s of [servers.etcd, servers.tsetcd]) {
      const client = new Etcd3({ hosts: s.clientUrl });
      const lease = client.lease(2, { autoKeepAlive: false });
      await lease.put('expiring').value('soon');
      assert.equal(await client.get('expiring').string(), 'soon');
      await waitFor(async () => (await client.get('expiring').string()) === null, 10000, `${s.kind}: key to expire`);
      client.close();
    }
  });

  test('keepalives keep a lease alive past its TTL (etcd3 client)', async () => {
    const client = new Etcd3({ hosts: servers.tsetcd.clientUrl });
    const lease = client.lease(2);
    await lease.put('kept').value('alive');
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal(await client.get('kept').string(), 'alive');
    await lease.revoke();
    assert.equal(await client.get('kept').string(), null);
    client.close();
  });
});

test('3 members: a lease expires once, everywhere, when the leader dies mid-TTL', async () => {
  const members = await startCluster('tsetcd', 3);
  try {
    const status = await clusterStatus(members.map((m) => m.endpoint).join(','));
    const leaderRow = status.find((s) => s.memberId === s.leader)!;
    const leader = members.find((m) => m.endpoint === leaderRow.endpoint)!;
    const followers = members.filter((m) => m !== leader);
    const client = new Etcd3({ hosts: followers[0]!.clientUrl });
    // Keepalives sent to a follower reach the leader, which alone times leases.
    const kept = client.lease(2);
    await kept.put('kept/key').value('v');
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(await client.get('kept/key').string(), 'v', 'kept alive through a follower');
    await kept.revoke();
    const lease = client.lease(4, { autoKeepAlive: false });
    await lease.put('ttl/key').value('v');
    const grantedAt = Date.now();
    await leader.kill9();
    // A new leader extends every lease by its full TTL: not gone early.
    await new Promise((r) => setTimeout(r, 2500));
    for (const f of followers) {
      const got = await etcdctl(f.endpoint, ['get', 'ttl/key', '--print-value-only']);
      assert.equal(got.stdout, 'v\n', 'the key outlives its TTL from the grant after a failover');
    }
    // Then it expires, once: every follower agrees, and one DELETE revision removed it.
    await waitFor(async () => (await etcdctl(followers[0]!.endpoint, ['get', 'ttl/key', '--print-value-only'])).stdout === '', 20000, 'expiry');
    assert.ok(Date.now() - grantedAt >= 4000);
    const revs = await Promise.all(
      followers.map(async (f) => JSON.parse((await etcdctl(f.endpoint, ['get', 'ttl/key', '-w', 'json', '--consistency=s'])).stdout).header.revision as number),
    );
    assert.equal(new Set(revs).size, 1, 'same revision on every member');
    client.close();
  } finally {
    await Promise.all(members.map((m) => m.destroy()));
  }
});
