// Watch on a 3-member bin/tsetcd cluster: watchers on the followers see exactly the events watchers
// on the leader see, whichever member took the writes; and a follower that fell so far behind that it
// installs a snapshot from the leader (a new MVCC store) keeps its open watch streams going, with
// every event once, in order. A member left without a leader ends the streams that asked for one
// (etcdctl's do), as etcd does after three election timeouts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Etcd3, type Watcher } from 'etcd3';
import { clusterStatus } from '../helpers/cluster.js';
import { startCluster, type ServerProcess } from '../helpers/processes.js';
import { EtcdctlWatch } from '../watch/etcdctl-watch.js';
import { connectLean, LeanWatchStream } from '../watch/lean-watch.js';

/** Small snapshot settings, so the leader compacts its log during the test. */
const SNAPSHOT_FLAGS = ['--snapshot-count=300', '--experimental-snapshot-catchup-entries=50'];

let members: ServerProcess[];

before(async () => {
  members = await startCluster('tsetcd', 3, SNAPSHOT_FLAGS);
});

after(async () => {
  await Promise.all((members ?? []).map((m) => m.destroy()));
});

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function roles(): Promise<{ leader: ServerProcess; followers: ServerProcess[] }> {
  const status = await clusterStatus(members.map((m) => m.endpoint).join(','));
  const leaderId = status[0]!.leader;
  const leader = members.find((m) => status.find((s) => s.endpoint === m.endpoint)?.memberId === leaderId)!;
  return { leader, followers: members.filter((m) => m !== leader) };
}

test('watchers on every member see the same events, whichever member took the writes', async () => {
  const clients = members.map((m) => new Etcd3({ hosts: m.clientUrl }));
  const watchers: Watcher[] = [];
  try {
    const seen: string[][] = members.map(() => []);
    for (let i = 0; i < members.length; i++) {
      const w = await clients[i]!.watch().prefix('c/').withPreviousKV().create();
      watchers.push(w);
      w.on('put', (kv, prev) => seen[i]!.push(`PUT ${kv.key.toString()}=${kv.value.toString()}@${kv.mod_revision} prev=${prev?.value.toString() ?? '-'}`));
      w.on('delete', (kv, prev) => seen[i]!.push(`DELETE ${kv.key.toString()}@${kv.mod_revision} prev=${prev?.value.toString() ?? '-'}`));
    }
    for (let i = 0; i < 60; i++) {
      const c = clients[i % clients.length]!;
      if (i % 7 === 6) await c.delete().key(`c/${i % 5}`).exec();
      else if (i % 11 === 10) await c.if(`c/${i % 5}`, 'Version', '>', 0).then(c.put(`c/t${i}`).value('a'), c.put(`c/u${i}`).value('b')).commit();
      else await c.put(`c/${i % 5}`).value(`v${i}`).exec();
    }
    await clients[1]!.put('c/end').value('end').exec();
    await until(() => seen.every((s) => s.some((e) => e.startsWith('PUT c/end='))), 20_000, () => seen.map((s) => s.length).join(','));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(seen[0]!.length >= 50);
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[2], seen[0]);
  } finally {
    await Promise.all(watchers.map((w) => w.cancel()));
    for (const c of clients) c.close();
  }
});

test('a follower that installs a snapshot from the leader keeps its watch streams: every event once, in order', async () => {
  const { leader, followers } = await roles();
  const follower = followers[0]!;
  const session = await connectLean(follower.clientUrl);
  const leaderSession = await connectLean(leader.clientUrl);
  const writer = new Etcd3({ hosts: leader.clientUrl });
  try {
    const onFollower = LeanWatchStream.open(session);
    const onLeader = LeanWatchStream.open(leaderSession);
    const key = Buffer.from('snap/');
    const end = Buffer.from('snap0');
    const [ids] = await Promise.all([onFollower.create(3, key, end), onLeader.create(1, key, end)]);
    const first = Number((await writer.put('snap/first').value('0').exec()).header.revision);

    process.kill(follower.pid!, 'SIGSTOP'); // frozen with its streams open
    let last = first;
    try {
      // Well past snapshot-count + catch-up entries: the leader's log no longer has what it missed.
      for (let i = 0; i < 1200; i++) last = Number((await writer.put(`snap/${i % 50}`).value(`v${i}`).exec()).header.revision);
    } finally {
      process.kill(follower.pid!, 'SIGCONT');
    }
    for (let i = 0; i < 20; i++) last = Number((await writer.put(`snap/after${i}`).value('x').exec()).header.revision);

    const total = last - first + 1;
    const tallies = [...ids!.map((id) => onFollower.tallies.get(id)!), ...onLeader.tallies.values()];
    await until(() => tallies.every((t) => t.count === total), 60_000, () => tallies.map((t) => t.count).join(',') + ` of ${total}`);
    await until(() => /installed snapshot from leader/.test(follower.log), 10_000, () => 'the follower to log a snapshot install');
    await new Promise((r) => setTimeout(r, 200));
    for (const t of tallies) assert.deepEqual(t, { count: total, lastRevision: last, disorder: 0 });
    assert.equal(onFollower.error, undefined);
    onFollower.close();
    onLeader.close();
  } finally {
    writer.close();
    session.destroy();
    leaderSession.destroy();
  }
});

test('a member without a leader ends require-leader watch streams with "no leader" (last: it stops the cluster)', async () => {
  const { leader, followers } = await roles();
  const survivor = followers[0]!;
  const watch = new EtcdctlWatch(survivor.endpoint, ['--prefix', 'lonely/']);
  await new Promise((r) => setTimeout(r, 1000));
  const started = Date.now();
  await Promise.all([leader.kill9(), followers[1]!.kill9()]);
  const out = await watch.exit(20_000);
  assert.match(out.stderr, /etcdserver: no leader/);
  assert.ok(Date.now() - started >= 2000, 'not before a few election timeouts without a leader');
});
