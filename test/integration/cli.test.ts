// bin/tsetcd's command line: etcd's flags and ETCD_* variables, usage errors (exit 2), and
// data dirs it must refuse.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { etcdctl } from '../helpers/etcdctl.js';
import { server, tempDir, TSETCD_BIN } from '../helpers/processes.js';

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSETCD_BIN, ...args], { env: { ...process.env, ...env }, timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

test('--version and --help', async () => {
  const v = await run(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^tsetcd Version: \d+\.\d+\.\d+\netcd API Version: 3\.4\.0\n/);
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  for (const flag of ['--listen-client-urls', '--initial-cluster-token', '--max-txn-ops', '--snapshot-count']) {
    assert.ok(h.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test('unknown flags and bad values exit with code 2 and a clear message', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--bogus'], {}, /flag provided but not defined: -bogus/],
    [['--heartbeat-interval=fast'], {}, /invalid value "fast" for flag -heartbeat-interval/],
    [['--heartbeat-interval=300'], {}, /should be at least as 5 times/],
    [['--max-request-bytes=-1'], {}, /invalid value "-1"/],
    [[], { ETCD_SNAPSHOT_COUNT: 'lots' }, /invalid value "lots" for flag -snapshot-count/],
    [['--name=x'], { ETCD_NAME: 'y' }, /shadowed by corresponding command-line flag/],
  ];
  for (const [args, env, re] of cases) {
    const r = await run(args, env);
    assert.equal(r.code, 2, `${args.join(' ')} exits 2`);
    assert.match(r.stderr, re);
  }
});

test('settings come from ETCD_* variables as from flags', async () => {
  const m = await server('tsetcd', { name: 'fromenv' });
  const dir = tempDir('envdir');
  const env = {
    ETCD_NAME: 'fromenv',
    ETCD_DATA_DIR: path.join(dir, 'data'),
    ETCD_LISTEN_CLIENT_URLS: m.clientUrl,
    ETCD_ADVERTISE_CLIENT_URLS: m.clientUrl,
    ETCD_LISTEN_PEER_URLS: m.peerUrl,
    ETCD_INITIAL_ADVERTISE_PEER_URLS: m.peerUrl,
    ETCD_INITIAL_CLUSTER: `fromenv=${m.peerUrl}`,
  };
  const child = execFile(process.execPath, [TSETCD_BIN], { env: { ...process.env, ...env } });
  try {
    let out = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && out.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      out = await etcdctl(m.endpoint, ['member', 'list']);
    }
    assert.match(out.stdout, /, started, fromenv, /);
    assert.ok(fs.existsSync(path.join(dir, 'data', 'member')), 'data dir from ETCD_DATA_DIR');
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a data dir of a newer format, or of real etcd, is refused with a clear message', async () => {
  const m = await server('tsetcd');
  await m.start();
  await m.stop();
  const formatFile = path.join(m.dataDir, 'member', 'tsetcd-format.json');
  fs.writeFileSync(formatFile, JSON.stringify({ format: 99, createdBy: 'tsetcd 9.0.0' }));
  const newer = await run(m.flags());
  assert.equal(newer.code, 1);
  assert.match(newer.stderr, /data dir format 99 \(written by tsetcd 9\.0\.0\) is a newer format than this tsetcd supports \(1\)/);

  const etcdDir = path.join(tempDir('etcd-dir'), 'x.etcd');
  fs.mkdirSync(path.join(etcdDir, 'member', 'snap'), { recursive: true });
  fs.writeFileSync(path.join(etcdDir, 'member', 'snap', 'db'), 'bbolt');
  const flags = m.flags().map((f) => (f.startsWith('--data-dir=') ? `--data-dir=${etcdDir}` : f));
  const etcdData = await run(flags);
  assert.equal(etcdData.code, 1);
  assert.match(etcdData.stderr, /holds a real etcd member's data/);
  await m.destroy();
  fs.rmSync(path.dirname(etcdDir), { recursive: true, force: true });
});
