// Real clusters behind the fault proxy: every peer link crosses it and is named by source and
// destination (tsetcd's Hello, etcd's HTTP heads); isolating the leader moves leadership to the
// majority, which keeps taking writes; healing brings the old leader back up to date.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UNKNOWN_SOURCE } from '../../src/main/faults/proxy.js';
import { KvClient } from '../nemesis/kv-client.js';
import { ProxiedCluster } from './proxied-cluster.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Names of the members every running member agrees leads, or undefined. */
async function agreedLeader(cluster: ProxiedCluster, among: string[]): Promise<string | undefined> {
  const ids = new Map<bigint, string>();
  const leaders = new Set<bigint>();
  for (const name of among) {
    const c = new KvClient(cluster.member(name).clientUrl);
    try {
      const s = await c.status(1000);
      ids.set(s.memberId, name);
      leaders.add(s.leader);
    } catch {
      return undefined;
    } finally {
      c.close();
    }
  }
  if (leaders.size !== 1) return undefined;
  return ids.get([...leaders][0]!);
}

async function waitForLeader(cluster: ProxiedCluster, among: string[], timeoutMs = 20000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leader = await agreedLeader(cluster, among);
    if (leader !== undefined) return leader;
    if (Date.now() > deadline) throw new Error(`no leader agreed by ${among.join(',')}`);
    await sleep(100);
  }
}

test('tsetcd: links are named, a partitioned leader is replaced and catches up after healing', async () => {
  const cluster = await ProxiedCluster.start(3);
  try {
    const leader = await waitForLeader(cluster, cluster.names);
    const others = cluster.names.filter((n) => n !== leader);
    const named = cluster.proxy.links().filter((l) => l.forwardedBytes > 0);
    assert.ok(named.length >= 6, JSON.stringify(named));
    assert.ok(named.every((l) => l.from !== UNKNOWN_SOURCE && l.to !== UNKNOWN_SOURCE), JSON.stringify(named));

    cluster.proxy.partition([[leader], others]);
    const newLeader = await waitForLeader(cluster, others);
    assert.notEqual(newLeader, leader);
    const client = new KvClient(cluster.member(others[0]!).clientUrl);
    const revision = await client.put('after-partition', 'yes', 5000);
    client.close();

    cluster.proxy.heal();
    const old = new KvClient(cluster.member(leader).clientUrl);
    let seen: string | null = null;
    for (let i = 0; i < 100 && seen !== 'yes'; i++) {
      try {
        seen = (await old.get('after-partition', 1000)).value;
      } catch {
        await sleep(100);
      }
    }
    const status = await old.status(1000);
    old.close();
    assert.equal(seen, 'yes');
    assert.ok(status.revision >= revision);
  } finally {
    await cluster.destroy();
  }
});

test('real etcd behind the proxy: its HTTP peer connections are named too', async () => {
  const cluster = await ProxiedCluster.start(3, { kind: 'etcd' });
  try {
    await waitForLeader(cluster, cluster.names);
    const named = cluster.proxy.links().filter((l) => l.forwardedBytes > 0 && l.from !== UNKNOWN_SOURCE && l.to !== UNKNOWN_SOURCE);
    assert.ok(named.length >= 6, JSON.stringify(cluster.proxy.links()));
  } finally {
    await cluster.destroy();
  }
});
