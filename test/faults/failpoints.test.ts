// Failpoints: the environment syntax, and each crash point firing in a real member under load,
// after which the member, restarted without failpoints, still has every acknowledged write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAILPOINTS_ENV, parseFailpoints, type FailpointName } from '../../src/main/failpoints.js';
import { server, type ServerProcess } from '../helpers/processes.js';
import { KvClient } from '../nemesis/kv-client.js';
import { ProxiedCluster } from './proxied-cluster.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('TSETCD_FAILPOINTS syntax', () => {
  assert.deepEqual([...parseFailpoints('walBeforeFsync=crash@3, applyAfterCommit=crash')], [
    ['walBeforeFsync', { action: 'crash', onHit: 3 }],
    ['applyAfterCommit', { action: 'crash', onHit: 1 }],
  ]);
  assert.equal(parseFailpoints('').size, 0);
  assert.throws(() => parseFailpoints('walBeforeFsync=panic'), /not name=crash/);
  assert.throws(() => parseFailpoints('walBeforeFsync=crash@0'), /not name=crash/);
  assert.throws(() => parseFailpoints('nowhere=crash'), /unknown failpoint nowhere/);
});

/** Resolves once the member's process is gone (a failpoint SIGKILLed it). */
async function died(m: ServerProcess, point: FailpointName, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && m.alive) await sleep(50);
  assert.match(m.log, new RegExp(`failpoint ${point} fired`), `${point} did not fire:\n${m.log.slice(-3000)}`);
}

/** Writers put unique keys until the member dies; returns the acknowledged ones. */
async function writeUntilDeath(url: string, prefix: string, writers = 16): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const c = new KvClient(url);
      try {
        for (let i = 0; ; i++) {
          const key = `${prefix}/${w}/${i}`;
          try {
            await c.put(key, `v${i}`, 3000);
            acked.set(key, `v${i}`);
          } catch {
            return;
          }
        }
      } finally {
        c.close();
      }
    }),
  );
  return acked;
}

async function assertAllPresent(url: string, acked: Map<string, string>, serializable = false): Promise<void> {
  const c = new KvClient(url);
  try {
    const lost: string[] = [];
    for (const [key, value] of acked) {
      const got = await c.get(key, 5000, serializable);
      if (got.value !== value) lost.push(`${key}=${value} (found ${got.value})`);
    }
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged writes lost`);
  } finally {
    c.close();
  }
}

for (const point of ['walBeforeFsync', 'walAfterFsync', 'applyBeforeCommit', 'applyAfterCommit'] as const) {
  test(`${point}: fires under load; the restarted member has every acknowledged write`, async () => {
    const crashing = await server('tsetcd', { env: { [FAILPOINTS_ENV]: `${point}=crash@40` } });
    await crashing.start();
    try {
      const acked = await writeUntilDeath(crashing.clientUrl, point);
      await died(crashing, point);
      assert.ok(acked.size > 0, 'nothing was acknowledged before the crash');
      const again = await server('tsetcd', {
        name: crashing.name,
        dataDir: crashing.dataDir,
        clientPort: crashing.clientPort,
        peerPort: crashing.peerPort,
      });
      await again.start();
      try {
        await assertAllPresent(again.clientUrl, acked);
      } finally {
        await again.kill9();
      }
    } finally {
      await crashing.destroy();
    }
  });
}

async function retry<T>(call: () => Promise<T>, attempts: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (e) {
      if (i >= attempts) throw e;
    }
  }
}

/** Waits until `url` serves `key` with `value` from its own state (serializable read). */
async function caughtUp(url: string, key: string, value: string, timeoutMs = 30000): Promise<void> {
  const c = new KvClient(url);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        if ((await c.get(key, 1000, true)).value === value) return;
      } catch {
        // restarting
      }
      if (Date.now() > deadline) throw new Error(`${url} did not catch up to ${key}=${value}`);
      await sleep(200);
    }
  } finally {
    c.close();
  }
}

for (const point of ['snapshotBeforeInstall', 'snapshotAfterInstall'] as const) {
  test(`${point}: fires on a follower receiving a snapshot; restarted, it has every acknowledged write`, async () => {
    // m3 falls behind behind a partition while the leader compacts its log; when the partition
    // heals the leader must send it a snapshot.
    const cluster = await ProxiedCluster.start(3, {
      flags: ['--snapshot-count=100', '--experimental-snapshot-catchup-entries=10'],
      env: (name) => (name === 'm3' ? { [FAILPOINTS_ENV]: `${point}=crash` } : {}),
    });
    try {
      const m3 = cluster.member('m3');
      const writer = new KvClient(cluster.member('m1').clientUrl);
      const acked = new Map<string, string>();
      for (let i = 0; i < 20; i++) acked.set(`${point}/before/${i}`, `v${i}`);
      for (const [k, v] of acked) await writer.put(k, v, 5000);
      await caughtUp(m3.clientUrl, `${point}/before/19`, 'v19');
      cluster.proxy.partition([['m3'], ['m1', 'm2']]);
      for (let i = 0; i < 400; i++) {
        // m3 may have been the leader: a put forwarded to it before m1 and m2 elect another times
        // out, as with etcd; the client tries again.
        await retry(() => writer.put(`${point}/during/${i}`, `v${i}`, 10000), 3);
        acked.set(`${point}/during/${i}`, `v${i}`);
      }
      cluster.proxy.heal();
      await died(m3, point, 30000);

      await cluster.restart('m3');
      const again = cluster.member('m3');
      await writer.put(`${point}/after`, 'done', 10000);
      acked.set(`${point}/after`, 'done');
      writer.close();
      await caughtUp(again.clientUrl, `${point}/after`, 'done');
      await assertAllPresent(again.clientUrl, acked, true);
      // And the same data as the leader, revision for revision.
      const [a, b] = [new KvClient(cluster.member('m1').clientUrl), new KvClient(again.clientUrl)];
      const rev = (await a.status(2000)).revision;
      const [ha, hb] = [await a.hashKV(rev, 5000), await b.hashKV(rev, 5000)];
      a.close();
      b.close();
      assert.equal(hb.hash, ha.hash, `m3's history differs from m1's at revision ${rev}`);
    } finally {
      await cluster.destroy();
    }
  });
}
