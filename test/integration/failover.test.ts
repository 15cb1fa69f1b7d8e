// Failures of real member processes on loopback: kill -9 of the leader under write load, a
// follower far behind catching up from a snapshot, and a 5-member cluster losing members.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { etcdctl } from '../helpers/etcdctl.js';
import { startCluster, type ServerProcess } from '../helpers/processes.js';
import { clusterStatus, waitFor } from '../helpers/cluster.js';

/** Small snapshot settings so the leader compacts its log during the test. */
const SNAPSHOT_FLAGS = ['--snapshot-count=300', '--experimental-snapshot-catchup-entries=50'];

interface Load {
  acked: Map<string, string>;
  stop(): Promise<void>;
}

/** Concurrent writers over every endpoint; records each acknowledged put. */
function writeLoad(members: ServerProcess[], prefix: string, writers = 16): Load {
  const client = new Etcd3({ hosts: members.map((m) => m.clientUrl) });
  const acked = new Map<string, string>();
  let running = true;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const key = `${prefix}/${w}/${i}`;
      try {
        await client.put(key).value(`v${i}`);
        acked.set(key, `v${i}`);
      } catch {
        await new Promise((r) => setTimeout(r, 50)); // no leader yet, or our endpoint died
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      client.close();
    },
  };
}

async function leaderOf(members: ServerProcess[]): Promise<ServerProcess> {
  const live = members.filter((m) => m.pid !== undefined);
  const status = await clusterStatus(live.map((m) => m.endpoint).join(','));
  const leaderId = status[0]!.leader;
  const row = status.find((s) => s.memberId === leaderId);
  assert.ok(row, 'the leader answers status');
  return live.find((m) => m.endpoint === row.endpoint)!;
}

/** Every acknowledged key, read back linearizably from every live member. */
async function assertAllPresent(members: ServerProcess[], prefix: string, acked: Map<string, string>): Promise<void> {
  for (const m of members) {
    const client = new Etcd3({ hosts: m.clientUrl });
    const stored = new Map(Object.entries(await client.getAll().prefix(`${prefix}/`).strings()));
    client.close();
    const lost = [...acked].filter(([k, v]) => stored.get(k) !== v);
    assert.deepEqual(lost.slice(0, 5), [], `${m.name}: ${lost.length} of ${acked.size} acknowledged puts missing`);
  }
}

async function sameHashes(members: ServerProcess[]): Promise<boolean> {
  const out = await etcdctl(members.map((m) => m.endpoint).join(','), ['endpoint', 'hashkv']);
  const hashes = out.stdout.trim().split('\n').map((l) => l.split(', ')[1]);
  return out.code === 0 && hashes.length === members.length && new Set(hashes).size === 1;
}

test('kill -9 of the leader under write load: a new leader soon, no acknowledged write lost, the member catches up', async () => {
  const members = await startCluster('tsetcd', 3, SNAPSHOT_FLAGS);
  try {
    const load = writeLoad(members, 'failover');
    await new Promise((r) => setTimeout(r, 1500));
    const leader = await leaderOf(members);
    const killedAt = Date.now();
    await leader.kill9();
    const rest = members.filter((m) => m !== leader);
    await waitFor(
      async () => {
        const status = await clusterStatus(rest.map((m) => m.endpoint).join(',')).catch(() => []);
        return status.length === 2 && status.every((s) => s.leader !== 0n && s.leader === status[0]!.leader);
      },
      10000,
      'a new leader',
    );
    const electedMs = Date.now() - killedAt;
    // Default election timeout is 1 s; etcd takes 1.1–2.6 s here. Generous bound for a shared machine.
    assert.ok(electedMs < 6000, `new leader after ${electedMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
    await load.stop();
    assert.ok(load.acked.size > 200, `only ${load.acked.size} puts acknowledged`);

    await leader.start();
    await waitFor(() => sameHashes(members), 20000, 'the restarted member to catch up');
    await assertAllPresent(members, 'failover', load.acked);
  } finally {
    await Promise.all(members.map((m) => m.destroy()));
  }
});

test('a follower far behind the compacted log catches up from a snapshot', async () => {
  const members = await startCluster('tsetcd', 3, SNAPSHOT_FLAGS);
  try {
    const leader = await leaderOf(members);
    const follower = members.find((m) => m !== leader)!;
    await follower.kill9();
    const load = writeLoad(members.filter((m) => m !== follower), 'behind', 8);
    // Well past snapshot-count + catch-up entries, so the leader's log no longer has what it missed.
    await waitFor(async () => load.acked.size > 1500, 60000, '1500 writes');
    await load.stop();
    await follower.start();
    await waitFor(() => sameHashes(members), 30000, 'the follower to catch up');
    assert.match(follower.log, /installed snapshot from leader/);
    await assertAllPresent([follower], 'behind', load.acked);
  } finally {
    await Promise.all(members.map((m) => m.destroy()));
  }
});

test('5 members: losing two keeps serving; losing three stops writes with a timeout; restarting recovers', async () => {
  const members = await startCluster('tsetcd', 5);
  try {
    const [a, b, c, d, e] = members as [ServerProcess, ServerProcess, ServerProcess, ServerProcess, ServerProcess];
    await Promise.all([d.kill9(), e.kill9()]);
    // If a killed member led, proposals forwarded to it are lost (etcd answers those with
    // "request timed out, possibly due to previous leader failure"): wait for a live leader.
    await waitFor(async () => {
      const status = await clusterStatus(`${a.endpoint},${b.endpoint},${c.endpoint}`).catch(() => []);
      return status.length === 3 && [a, b, c].some((m) => status.some((s) => s.endpoint === m.endpoint && s.memberId === status[0]!.leader));
    }, 15000, 'a leader among the three left');
    const ok = await etcdctl(`${a.endpoint},${b.endpoint},${c.endpoint}`, ['put', 'quorum', 'three-of-five']);
    assert.equal(ok.stdout, 'OK\n', ok.stderr);

    await c.kill9();
    const stuck = await etcdctl(`${a.endpoint},${b.endpoint}`, ['put', 'noquorum', 'x', '--command-timeout=3s']);
    assert.notEqual(stuck.code, 0);
    assert.match(stuck.stderr, /context deadline exceeded|request timed out|no leader/);

    await Promise.all([c.start(), d.start(), e.start()]);
    const back = await etcdctl(members.map((m) => m.endpoint).join(','), ['put', 'quorum', 'five-of-five']);
    assert.equal(back.stdout, 'OK\n', back.stderr);
    await waitFor(() => sameHashes(members), 20000, 'all five to agree');
    const got = await etcdctl(e.endpoint, ['get', 'quorum', '--print-value-only']);
    assert.equal(got.stdout, 'five-of-five\n');
  } finally {
    await Promise.all(members.map((m) => m.destroy()));
  }
});
