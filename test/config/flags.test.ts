// etcd's flags and ETCD_* variables: syntax, defaults, validation with etcd's wording.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/main/config/config.js';
import { applyEnv, ConfigError, parseArgv } from '../../src/main/config/flags.js';

const configOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveConfig(applyEnv(parseArgv(argv), env).flags);

test('defaults are etcd\'s', () => {
  const c = configOf([]);
  assert.equal(c.name, 'default');
  assert.equal(c.dataDir, 'default.etcd');
  assert.deepEqual(c.listenClientUrls, ['http://localhost:2379']);
  assert.deepEqual(c.listenPeerUrls, ['http://localhost:2380']);
  assert.deepEqual([...c.initialCluster], [['default', ['http://localhost:2380']]]);
  assert.equal(c.initialClusterToken, 'etcd-cluster');
  assert.equal(c.initialClusterState, 'new');
  assert.equal(c.heartbeatIntervalMs, 100);
  assert.equal(c.electionTimeoutMs, 1000);
  assert.equal(c.snapshotCount, 100000);
  assert.equal(c.maxRequestBytes, 1572864);
  assert.equal(c.maxTxnOps, 128);
  assert.equal(c.quotaBackendBytes, 2 * 1024 ** 3);
  assert.equal(c.logLevel, 'info');
});

test('Go flag syntax: -flag, --flag=value, --flag value', () => {
  const c = configOf(['-name', 'n1', '--data-dir=/tmp/x', '--heartbeat-interval', '50', '--election-timeout=500']);
  assert.equal(c.name, 'n1');
  assert.equal(c.dataDir, '/tmp/x');
  assert.equal(c.heartbeatIntervalMs, 50);
  assert.equal(c.electionTimeoutMs, 500);
  assert.deepEqual([...c.initialCluster.keys()], ['n1']);
});

test('ETCD_* variables fill flags; a shadowed variable is an error', () => {
  const c = configOf([], { ETCD_NAME: 'envname', ETCD_MAX_TXN_OPS: '7' });
  assert.equal(c.name, 'envname');
  assert.equal(c.maxTxnOps, 7);
  assert.throws(() => configOf(['--name=a'], { ETCD_NAME: 'b' }), /conflicting environment variable "ETCD_NAME"/);
  assert.deepEqual(applyEnv({}, { ETCD_FOO: '1', ETCDCTL_API: '3' }).unrecognized, ['ETCD_FOO']);
});

test('bad flags and values are clear errors', () => {
  const cases: [string[], RegExp][] = [
    [['--no-such-flag'], /flag provided but not defined: -no-such-flag/],
    [['--heartbeat-interval=abc'], /invalid value "abc" for flag -heartbeat-interval/],
    [['--heartbeat-interval=500'], /should be at least as 5 times as --heartbeat-interval\[500ms\]/],
    [['--election-timeout=60000'], /is too long/],
    [['--initial-cluster-state=foo'], /initial-cluster-state/],
    [['--listen-client-urls=ftp://x:1', '--advertise-client-urls=http://x:1'], /URL scheme must be http/],
    [['--listen-client-urls=http://x', '--advertise-client-urls=http://x:1'], /does not have the form "host:port"/],
    [['--listen-client-urls=http://x:1'], /--advertise-client-urls is required/],
    [['--log-level=loud'], /unknown log level/],
    [['--name=a', '--initial-cluster=b=http://localhost:2380'], /couldn't find local name "a"/],
    [['--name'], /flag needs an argument/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => configOf(argv), (e: unknown) => e instanceof ConfigError && re.test(e.message), argv.join(' '));
  }
});
