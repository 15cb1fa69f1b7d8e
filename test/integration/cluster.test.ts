// Three- and five-member clusters of real bin/tsetcd processes on loopback, driven by real
// etcdctl: membership, status, writes to followers, serializable reads, leader transfer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { etcdctl } from '../helpers/etcdctl.js';
import { normalize } from '../helpers/normalize.js';
import { startCluster, type ServerProcess } from '../helpers/processes.js';
import { clusterStatus, waitFor } from '../helpers/cluster.js';

describe('a 3-member cluster', () => {
  let members: ServerProcess[];
  let etcd: ServerProcess[];
  const all = () => members.map((m) => m.endpoint).join(',');

  before(async () => {
    [members, etcd] = await Promise.all([startCluster('tsetcd', 3), startCluster('etcd', 3)]);
  });

  after(async () => {
    await Promise.all([...(members ?? []), ...(etcd ?? [])].map((m) => m.destroy()));
  });

  test('member list and endpoint status --cluster look as they do with etcd', async () => {
    const list = await etcdctl(members[0]!.endpoint, ['member', 'list']);
    const etcdList = await etcdctl(etcd[0]!.endpoint, ['member', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const rows = (out: string) => normalize(out).split('\n').filter(Boolean).sort();
    assert.deepEqual(rows(list.stdout), rows(etcdList.stdout));
    for (const m of members) assert.ok(list.stdout.includes(`, m${members.indexOf(m) + 1}, ${m.peerUrl}, ${m.clientUrl}, false`));

    const status = await clusterStatus(members[0]!.endpoint, true);
    assert.equal(status.length, 3);
    const leaders = new Set(status.map((s) => s.leader));
    assert.equal(leaders.size, 1, 'every member names the same leader');
    assert.equal(new Set(status.map((s) => s.raftTerm)).size, 1, 'one term');
    assert.ok(status.some((s) => s.memberId === [...leaders][0]), 'the leader is a member');
  });

  test('writes sent to a follower are forwarded; every member serves them', async () => {
    const status = await clusterStatus(all());
    const follower = members.find((m) => status.find((s) => s.endpoint === m.endpoint)!.memberId !== status[0]!.leader)!;
    const put = await etcdctl(follower.endpoint, ['put', 'via-follower', 'yes']);
    assert.equal(put.stdout, 'OK\n', put.stderr);
    // Linearizable reads on every member see it at once.
    for (const m of members) {
      const got = await etcdctl(m.endpoint, ['get', 'via-follower', '--print-value-only']);
      assert.equal(got.stdout, 'yes\n');
    }
    // Serializable reads are local; each follower has it shortly.
    for (const m of members) {
      await waitFor(async () => (await etcdctl(m.endpoint, ['get', 'via-follower', '--consistency=s', '--print-value-only'])).stdout === 'yes\n');
    }
  });

  test('move-leader hands leadership to the chosen member', async () => {
    const before = await clusterStatus(all());
    const leader = before[0]!.leader;
    const target = before.find((s) => s.memberId !== leader)!;
    const moved = await etcdctl(all(), ['move-leader', target.memberId.toString(16)]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, `Leadership transferred from ${leader.toString(16)} to ${target.memberId.toString(16)}\n`);
    const after = await clusterStatus(all());
    for (const s of after) assert.equal(s.leader, target.memberId);
    // Asking a follower to move leadership is refused as etcd refuses it.
    const follower = after.find((s) => s.memberId !== target.memberId)!;
    const refused = await etcdctl(follower.endpoint, ['move-leader', follower.memberId.toString(16)]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /etcdserver: not leader|no leader endpoint given/);
  });

  test('hashkv agrees on every member', async () => {
    for (let i = 0; i < 50; i++) await etcdctl(members[i % 3]!.endpoint, ['put', `h${i}`, `v${i}`]);
    await waitFor(async () => {
      const out = await etcdctl(all(), ['endpoint', 'hashkv']);
      const hashes = out.stdout.trim().split('\n').map((l) => l.split(', ')[1]);
      return hashes.length === 3 && new Set(hashes).size === 1;
    });
  });
});
