// Membership changes on a running cluster with real etcdctl: member add, a new member joining
// with --initial-cluster-state=existing, learners and promote, member remove.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { etcdctl } from '../helpers/etcdctl.js';
import { freePort } from '../helpers/ports.js';
import { server, startCluster, tempDir, type ServerProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/cluster.js';

async function sameHashes(members: ServerProcess[]): Promise<boolean> {
  const out = await etcdctl(members.map((m) => m.endpoint).join(','), ['endpoint', 'hashkv']);
  const hashes = out.stdout.trim().split('\n').map((l) => l.split(', ')[1]);
  return out.code === 0 && hashes.length === members.length && new Set(hashes).size === 1;
}

/** `member add` prints the settings for the new member; start it with them. */
async function addAndStart(members: ServerProcess[], name: string, learner: boolean): Promise<ServerProcess> {
  const peerPort = await freePort();
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const added = await etcdctl(members[0]!.endpoint, ['member', 'add', name, `--peer-urls=${peerUrl}`, ...(learner ? ['--learner'] : [])]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, new RegExp(`^Member +[0-9a-f]+ added to cluster +[0-9a-f]+\\n`));
  const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added.stdout)![1]!;
  assert.match(added.stdout, /ETCD_INITIAL_CLUSTER_STATE="existing"/);
  const joining = await server('tsetcd', {
    name,
    peerPort,
    dataDir: path.join(tempDir('join'), `${name}.etcd`),
    initialCluster,
    flags: ['--initial-cluster-token=test-cluster', '--initial-cluster-state=existing'],
  });
  await joining.start();
  return joining;
}

test('member add / join with state existing / learner promote / member remove', async () => {
  const members = await startCluster('tsetcd', 3);
  const extra: ServerProcess[] = [];
  try {
    for (let i = 0; i < 20; i++) await etcdctl(members[i % 3]!.endpoint, ['put', `before/${i}`, `v${i}`]);

    const m4 = await addAndStart(members, 'm4', false);
    extra.push(m4);
    const four = [...members, m4];
    await waitFor(() => sameHashes(four), 20000, 'the new member to catch up');
    const got = await etcdctl(m4.endpoint, ['get', 'before/7', '--print-value-only', '--consistency=s']);
    assert.equal(got.stdout, 'v7\n');
    const list = await etcdctl(m4.endpoint, ['member', 'list']);
    assert.equal(list.stdout.trim().split('\n').length, 4);
    assert.match(list.stdout, new RegExp(`, started, m4, ${m4.peerUrl}, ${m4.clientUrl}, false`));

    const m5 = await addAndStart(four, 'm5', true);
    extra.push(m5);
    await waitFor(async () => (await etcdctl(m5.endpoint, ['member', 'list'])).stdout.includes(', m5, '), 10000, 'm5 listed');
    const asLearner = await etcdctl(m5.endpoint, ['member', 'list']);
    assert.match(asLearner.stdout, /, started, m5, .*, true\n/);
    const m5Id = /^([0-9a-f]+), started, m5,/m.exec(asLearner.stdout)![1]!;
    await waitFor(() => sameHashes([...four, m5]), 20000, 'the learner to catch up');
    const promoted = await etcdctl(members[0]!.endpoint, ['member', 'promote', m5Id]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, new RegExp(`Member +${m5Id} promoted in cluster +[0-9a-f]+`));
    const afterPromote = await etcdctl(members[0]!.endpoint, ['member', 'list']);
    assert.match(afterPromote.stdout, /, started, m5, .*, false\n/);

    const m4Id = /^([0-9a-f]+), started, m4,/m.exec(afterPromote.stdout)![1]!;
    const removed = await etcdctl(members[0]!.endpoint, ['member', 'remove', m4Id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`Member +${m4Id} removed from cluster +[0-9a-f]+`));
    await waitFor(async () => m4.pid === undefined || !(await etcdctl(m4.endpoint, ['endpoint', 'health'])).stdout.includes('is healthy'), 10000, 'm4 to stop');
    const final = await etcdctl(members[0]!.endpoint, ['member', 'list']);
    assert.equal(final.stdout.trim().split('\n').length, 4);
    assert.ok(!final.stdout.includes(', m4, '));
    const notFound = await etcdctl(members[0]!.endpoint, ['member', 'remove', m4Id]);
    assert.match(notFound.stderr, /etcdserver: member not found/);
    const put = await etcdctl(members[1]!.endpoint, ['put', 'after', 'removal']);
    assert.equal(put.stdout, 'OK\n');
  } finally {
    await Promise.all([...members, ...extra].map((m) => m.destroy()));
  }
});
