// A member restarted while proposals of its previous incarnation are still on their way through
// the log must apply those entries as they are written, and must not answer its new clients with
// their outcomes.
//
// Proposal ids are time-prefixed (server/waiters.ts) because entries are identified by (member
// id, proposal id) and the applier takes the local waiting request for an entry with this
// member's id instead of decoding the entry's bytes: a reused id would apply an old entry as the
// new request on this member only, and answer the new client with that entry's revision.
//
// Here: the leader's links to member X are held, X's (fresh) incarnation forwards 20 puts the
// others commit, X is killed and restarted; while it still hears nothing from the leader its new
// clients send 20 other puts (before the fix, with the same proposal ids); then the links are released.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvClient } from '../nemesis/kv-client.js';
import { converge } from '../nemesis/checks.js';
import { ProxiedCluster } from './proxied-cluster.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function leaderName(cluster: ProxiedCluster): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const ids = new Map<bigint, string>();
    let leader = 0n;
    for (const name of cluster.names) {
      const kv = new KvClient(cluster.member(name).clientUrl);
      try {
        const s = await kv.status(1000);
        ids.set(s.memberId, name);
        leader = s.leader;
      } catch {
        // starting
      } finally {
        kv.close();
      }
    }
    if (ids.size === cluster.names.length && ids.has(leader)) return ids.get(leader)!;
    await sleep(100);
  }
  throw new Error('no leader');
}

/** Fires puts without waiting for them; returns the revisions of those acknowledged, by key. */
function firePuts(url: string, prefix: string, n: number, timeoutMs: number): Promise<Map<string, number>> {
  const kv = new KvClient(url);
  const acked = new Map<string, number>();
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      // One client per put: KvClient is one call at a time.
      const c = new KvClient(url);
      try {
        acked.set(`${prefix}${i}`, await c.put(`${prefix}${i}`, `v${i}`, timeoutMs));
      } catch {
        // not acknowledged
      } finally {
        c.close();
      }
    }),
  ).then(() => {
    kv.close();
    return acked;
  });
}

test('a restarted member applies its previous incarnation\'s entries as written', async () => {
  const cluster = await ProxiedCluster.start(3);
  try {
    const leader = await leaderName(cluster);
    const x = cluster.names.find((n) => n !== leader)!;
    await cluster.restart(x); // a fresh incarnation: its proposal ids start again at 1
    const xUrl = () => cluster.member(x).clientUrl;
    const others = cluster.names.filter((n) => n !== x);

    cluster.proxy.setFaults({ from: leader, to: x }, { partition: 'hold' });
    const oldPuts = firePuts(xUrl(), 'old/', 20, 3000);
    const t = new KvClient(cluster.member(others.find((n) => n !== leader)!).clientUrl);
    for (let i = 0; i < 100 && (await t.get('old/19', 1000, true).catch(() => ({ value: null }))).value === null; i++) await sleep(100);
    t.close();
    await oldPuts;

    await cluster.kill9(x);
    const restarting = cluster.restart(x, {}, 60000).catch(() => undefined);
    await sleep(2000);
    const newPuts = firePuts(xUrl(), 'new/', 20, 15000);
    await sleep(1000);
    cluster.proxy.heal();
    const acked = await newPuts;
    await restarting;

    const revision = await converge(cluster.endpoints, 30000);
    const hashes = await Promise.all(
      cluster.names.map(async (name) => {
        const kv = new KvClient(cluster.member(name).clientUrl);
        try {
          return `${name}:${(await kv.hashKV(revision, 5000)).hash}`;
        } finally {
          kv.close();
        }
      }),
    );
    assert.equal(new Set(hashes.map((h) => h.split(':')[1])).size, 1, `members diverged: ${hashes.join(' ')}`);
    // Every new put acknowledged is in the store at the revision it was acknowledged with.
    const check = new KvClient(cluster.member(leader).clientUrl);
    for (const [key, rev] of acked) assert.equal(await check.getAt(key, rev, 5000), `v${key.split('/')[1]}`, `${key} acknowledged at revision ${rev}`);
    check.close();
  } finally {
    await cluster.destroy();
  }
});
