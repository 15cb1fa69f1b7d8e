// Real etcdctl (Debian's etcd-client 3.4) against bin/tsetcd and against real etcd in the same
// test: the same commands must print the same output, ids, terms and timings aside.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etcdctl } from '../helpers/etcdctl.js';
import { normalize } from '../helpers/normalize.js';
import { besideEtcd } from '../helpers/beside-etcd.js';

const servers = besideEtcd();

interface Step {
  args: string[];
  input?: string;
}

/** Runs a step on both servers; returns tsetcd's normalized output after asserting it equals etcd's. */
async function same(step: Step): Promise<string> {
  const [want, got] = await Promise.all([
    etcdctl(servers.etcd.endpoint, step.args, { input: step.input }),
    etcdctl(servers.tsetcd.endpoint, step.args, { input: step.input }),
  ]);
  const render = (r: { code: number; stdout: string; stderr: string }) =>
    `exit ${r.code}\n${normalize(r.stdout)}${normalize(r.stderr)}`;
  assert.equal(render(got), render(want), `etcdctl ${step.args.join(' ')}`);
  return render(got);
}

/** Steps run one after another so both servers see the same history, revisions included. */
async function sequence(steps: Step[]): Promise<void> {
  for (const step of steps) await same(step);
}

test('put and get: prefix, from-key, limit, sort, keys-only, print-value-only, rev, json and fields', async () => {
  await sequence([
    { args: ['put', 'foo', 'bar'] },
    { args: ['put', 'foo1', 'one'] },
    { args: ['put', 'foo2', 'two'] },
    { args: ['put', 'foo1', 'uno'] },
    { args: ['put', 'zoo', 'animal'] },
    { args: ['put', 'a/b', 'slash'] },
    { args: ['get', 'foo'] },
    { args: ['get', 'nope'] },
    { args: ['get', 'foo', '--prefix'] },
    { args: ['get', 'foo1', '--from-key'] },
    { args: ['get', '', '--from-key', '--keys-only'] },
    { args: ['get', 'foo', '--prefix', '--limit=2'] },
    { args: ['get', 'foo', '--prefix', '--sort-by=MODIFY', '--order=DESCEND'] },
    { args: ['get', 'foo', '--prefix', '--sort-by=VERSION', '--order=ASCEND'] },
    { args: ['get', 'foo', '--prefix', '--sort-by=VALUE'] },
    { args: ['get', 'foo', '--prefix', '--keys-only'] },
    { args: ['get', 'foo', '--prefix', '--print-value-only'] },
    { args: ['get', 'foo', '--prefix', '--count-only', '-w', 'json'] },
    { args: ['get', 'foo1', '--rev=3'] },
    { args: ['get', 'foo', '-w', 'json'] },
    { args: ['get', 'foo', '--prefix', '-w', 'fields'] },
    { args: ['get', 'foo', '--prefix', '--limit=1', '-w', 'json'] },
    { args: ['get', 'foo', '--consistency=s'] },
    { args: ['put', 'foo', 'bar2', '--prev-kv'] },
    { args: ['put', 'foo', '--ignore-value', '-w', 'json'] },
  ]);
});

test('del: single, prefix, prev-kv, from-key', async () => {
  await sequence([
    { args: ['put', 'd/1', 'x'] },
    { args: ['put', 'd/2', 'y'] },
    { args: ['put', 'd/3', 'z'] },
    { args: ['put', 'e', 'e'] },
    { args: ['del', 'd/1'] },
    { args: ['del', 'nothing-here'] },
    { args: ['del', 'd/', '--prefix', '--prev-kv'] },
    { args: ['del', 'e', '--from-key', '-w', 'json'] },
    { args: ['get', '', '--from-key'] },
  ]);
});

test('txn (non-interactive): compares, success and failure branches', async () => {
  await sequence([
    { args: ['put', 't', '1'] },
    { args: ['txn'], input: 'value("t") = "1"\n\nput t 2\nget t\n\nput t failed\n\n' },
    { args: ['txn'], input: 'value("t") = "1"\n\nput t 3\n\nput t4 failure-branch\nget t\n\n' },
    { args: ['txn', '-w', 'json'], input: 'mod("t") > "0"\nversion("t") = "2"\n\nget t\ndel t4\n\n\n' },
    { args: ['txn'], input: 'create("missing") = "0"\n\nput created yes\n\n\n' },
    { args: ['get', 'created'] },
  ]);
});

test('compaction, and reads below it fail as etcd fails them', async () => {
  await sequence([
    { args: ['put', 'c', 'v1'] },
    { args: ['put', 'c', 'v2'] },
    { args: ['put', 'c', 'v3'] },
  ]);
  // Both servers have the same history, so the same revision numbers.
  const status = await etcdctl(servers.tsetcd.endpoint, ['get', 'c', '-w', 'json']);
  const rev = (JSON.parse(status.stdout) as { header: { revision: number } }).header.revision;
  await sequence([
    { args: ['compaction', String(rev - 1)] },
    { args: ['get', 'c', `--rev=${rev - 2}`] },
    { args: ['get', 'c', `--rev=${rev - 1}`] },
    { args: ['get', 'c', `--rev=${rev + 100}`] },
    { args: ['compaction', String(rev - 2)] },
    { args: ['compaction', String(rev + 100)] },
    { args: ['endpoint', 'hashkv'] },
  ]);
});

test('endpoint status, endpoint health, member list', async () => {
  const status = await etcdctl(servers.tsetcd.endpoint, ['endpoint', 'status', '-w', 'json']);
  assert.equal(status.code, 0, status.stderr);
  const [entry] = JSON.parse(status.stdout) as { Status: { leader: number; header: { member_id: number } } }[];
  assert.equal(entry!.Status.leader, entry!.Status.header.member_id, 'a one-member cluster leads itself');
  const table = await etcdctl(servers.tsetcd.endpoint, ['endpoint', 'status']);
  assert.match(table.stdout, /^127\.0\.0\.1:\d+, [0-9a-f]+, 3\.4\.0, \d+ [kM]?B, true, false, \d+, \d+, \d+, \n$/);
  await same({ args: ['endpoint', 'health'] });
  await same({ args: ['member', 'list'] });
  await same({ args: ['member', 'list', '-w', 'json'] });
});

test('bad requests get etcd\'s errors and change nothing', async () => {
  await sequence([
    { args: ['put', 'guard', 'kept'] },
    { args: ['put', '', 'v'] },
    { args: ['get', ''] },
    { args: ['put', 'nokey', '--ignore-value'] },
    { args: ['txn'], input: '\n\nput dup 1\nput dup 2\n\n\n' },
    { args: ['get', 'guard', '-w', 'json'] },
  ]);
});
