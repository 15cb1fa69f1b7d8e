// `tsetcd bench` against a real etcd: each workload runs a short load, and the server's own
// figures (keys stored, gRPC calls handled from /metrics) confirm the counts the bench reports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { HistogramLogReader } from 'hdr-histogram-js';
import { runBench } from '../../src/main/bench/cli.js';
import type { JsonReport } from '../../src/main/bench/json-report.js';
import { server, tempDir, type ServerProcess } from '../helpers/processes.js';

let etcd: ServerProcess;
let client: Etcd3;
let workDir: string;

before(async () => {
  workDir = tempDir('bench-tool');
  etcd = await server('etcd', { dataDir: path.join(workDir, 'etcd') });
  await etcd.start();
  client = new Etcd3({ hosts: etcd.clientUrl });
});

after(async () => {
  client?.close();
  await etcd?.destroy();
  fs.rmSync(workDir, { recursive: true, force: true });
});

interface BenchRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function bench(...argv: string[]): Promise<BenchRun> {
  let stdout = '';
  let stderr = '';
  const code = await runBench(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
  });
  return { code, stdout, stderr };
}

/** Runs the bench with --json against the test server and returns the parsed report. */
async function benchJson(...argv: string[]): Promise<JsonReport> {
  const run = await bench(...argv, '--endpoints', etcd.endpoint, '--json');
  assert.equal(run.stderr, '');
  assert.equal(run.code, 0, run.stdout);
  return JSON.parse(run.stdout) as JsonReport;
}

async function keysUnder(prefix: string): Promise<number> {
  return client.getAll().prefix(prefix).count();
}

/** etcd's gRPC counters from /metrics, summed over status codes (or for one code). */
async function metrics(): Promise<{ handled(method: string, code?: string): number; received(method: string): number }> {
  const text = await (await fetch(`${etcd.clientUrl}/metrics`)).text();
  const sum = (name: string, match: (labels: string) => boolean) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && match(line.slice(line.indexOf('{'), line.indexOf('}'))))
      .reduce((n, line) => n + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return {
    handled: (method, code) =>
      sum('grpc_server_handled_total', (l) => l.includes(`grpc_method="${method}"`) && (code === undefined || l.includes(`grpc_code="${code}"`))),
    received: (method) => sum('grpc_server_msg_received_total', (l) => l.includes(`grpc_method="${method}"`)),
  };
}

/** How many calls of each method the server handled while `run` ran. */
async function handledDuring<T>(methods: readonly string[], run: () => Promise<T>): Promise<{ result: T; handled: Record<string, number> }> {
  const before = await metrics();
  const counts = Object.fromEntries(methods.map((m) => [m, before.handled(m, 'OK')]));
  const result = await run();
  const now = await metrics();
  return { result, handled: Object.fromEntries(methods.map((m) => [m, now.handled(m, 'OK') - counts[m]!])) };
}

function assertWellFormed(report: JsonReport, requests: number): void {
  assert.equal(report.requests, requests);
  assert.equal(report.errors, 0);
  assert.deepEqual(report.errorDistribution, {});
  assert.ok(report.totalSecs > 0);
  assert.ok(report.requestsPerSec > 0);
  const l = report.latencySecs;
  assert.ok(0 < l.fastest && l.fastest <= l.average && l.average <= l.slowest, JSON.stringify(l));
  assert.deepEqual(
    l.percentiles.map((p) => p.percentile),
    [10, 25, 50, 75, 90, 95, 99, 99.9, 99.99],
  );
  for (let i = 1; i < l.percentiles.length; i++) assert.ok(l.percentiles[i]!.secs >= l.percentiles[i - 1]!.secs);
  assert.equal(report.histogram.length, 11);
  assert.equal(
    report.histogram.reduce((n, b) => n + b.count, 0),
    requests,
  );
  assert.equal(
    report.throughput.reduce((n, s) => n + s.requests, 0),
    requests,
  );
  assert.ok(report.generator.cpuPercentOfOneCore > 0);
}

describe('workloads against real etcd', () => {
  test('put: --total puts of distinct sequential keys, with --json, --hdr-log and --report', async () => {
    const hdrLog = path.join(workDir, 'put.hlog');
    const report = path.join(workDir, 'put.html');
    const { result, handled } = await handledDuring(['Put'], () =>
      benchJson('put', '--total', '2000', '--conns', '4', '--clients', '50', '--sequential-keys', '--key-space-size', '2000',
        '--key-prefix', '/put/', '--val-size', '64', '--hdr-log', hdrLog, '--report', report),
    );
    assertWellFormed(result, 2000);
    assert.equal(result.workload, 'put');
    assert.deepEqual(result.options, { conns: 4, clients: 50, threads: 1, total: 2000, durationSecs: null, warmupSecs: 0, rate: 0 });
    assert.equal(handled.Put, 2000);
    assert.equal(await keysUnder('/put/'), 2000);
    const kv = await client.get('/put/00001999').buffer();
    assert.equal(kv?.length, 64);

    const log = fs.readFileSync(hdrLog, 'utf8');
    assert.match(log, /^#\[Histogram log format version 1\.3\]$/m);
    assert.match(log, /^"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"$/m);
    const reader = new HistogramLogReader(log);
    let recorded = 0;
    let maxUs = 0;
    for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
      recorded += h.totalCount;
      maxUs = Math.max(maxUs, h.maxValue);
    }
    assert.equal(recorded, 2000);
    assert.ok(Math.abs(maxUs / 1e6 - result.latencySecs.slowest) < 0.001, `${maxUs} µs vs ${result.latencySecs.slowest} s`);

    const html = fs.readFileSync(report, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<svg id="latency-by-percentile"[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>/);
    assert.match(html, /<svg id="throughput"[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>/);
    assert.match(html, />99\.9%</);
    assert.doesNotMatch(html, /<script|<link|<img|\s(src|href)=/, 'self-contained');
  });

  test('range: --total ranges, linearizable and serializable', async () => {
    for (const consistency of ['l', 's']) {
      const { result, handled } = await handledDuring(['Range'], () =>
        benchJson('range', '--total', '2000', '--conns', '2', '--clients', '20', '--consistency', consistency, '--key-prefix', '/put/', '--key-space-size', '2000'),
      );
      assertWellFormed(result, 2000);
      assert.equal(handled.Range, 2000, `consistency ${consistency}`);
    }
  });

  test('txn-put: --total txns of --txn-ops distinct keys each', async () => {
    const { result, handled } = await handledDuring(['Txn'], () =>
      benchJson('txn-put', '--total', '2000', '--txn-ops', '2', '--conns', '2', '--clients', '20', '--sequential-keys', '--key-space-size', '4000', '--key-prefix', '/txn/'),
    );
    assertWellFormed(result, 2000);
    assert.equal(handled.Txn, 2000);
    assert.equal(await keysUnder('/txn/'), 4000);
  });

  test('mixed: ranges and puts add up to --total, about --read-ratio of them ranges', async () => {
    const { result, handled } = await handledDuring(['Range', 'Put'], () =>
      benchJson('mixed', '--total', '2000', '--read-ratio', '0.9', '--conns', '2', '--clients', '20', '--key-space-size', '500', '--key-prefix', '/mixed/'),
    );
    assertWellFormed(result, 2000);
    const { ranges = 0, puts = 0 } = result.counts;
    assert.equal(ranges + puts, 2000);
    assert.ok(ranges > 1600 && ranges < 1950, `ranges: ${ranges}`);
    assert.equal(handled.Range, ranges);
    assert.equal(handled.Put, puts);
  });

  test('watch: every watcher receives every put', async () => {
    const { result, handled } = await handledDuring(['Put'], () =>
      benchJson('watch', '--total', '200', '--watchers', '10', '--streams', '3', '--conns', '2', '--clients', '10', '--watch-prefix', '/watched/'),
    );
    assertWellFormed(result, 2000);
    assert.equal(handled.Put, 200);
    assert.deepEqual(result.counts, { puts: 200, 'events expected': 2000, 'events delivered': 2000 });
  });

  test('watch-latency: paced puts, put-to-event latency per event', async () => {
    const result = await benchJson('watch-latency', '--total', '100', '--rate', '500', '--watchers', '4', '--streams', '2', '--watch-prefix', '/watched-latency/');
    assertWellFormed(result, 400);
    assert.equal(result.options.rate, 500);
    assert.ok(result.totalSecs >= 0.19, `100 puts at 500/s take at least 0.2 s, took ${result.totalSecs}`);
  });

  test('lease-keepalive: --total keepalive round trips', async () => {
    const before = await metrics();
    const result = await benchJson('lease-keepalive', '--total', '2000', '--conns', '2', '--clients', '10');
    const now = await metrics();
    assertWellFormed(result, 2000);
    assert.equal(now.received('LeaseKeepAlive') - before.received('LeaseKeepAlive'), 2000);
    assert.equal(now.handled('LeaseGrant', 'OK') - before.handled('LeaseGrant', 'OK'), 10);
    assert.equal(now.handled('LeaseRevoke', 'OK') - before.handled('LeaseRevoke', 'OK'), 10, 'the leases are revoked at the end');
  });

  test('--threads 2: the same total, sequential keys still distinct', async () => {
    const { result, handled } = await handledDuring(['Put'], () =>
      benchJson('put', '--threads', '2', '--total', '2001', '--conns', '4', '--clients', '40', '--sequential-keys', '--key-space-size', '2001', '--key-prefix', '/threads/'),
    );
    assertWellFormed(result, 2001);
    assert.equal(result.generator.threads, 2);
    assert.equal(handled.Put, 2001);
    assert.equal(await keysUnder('/threads/'), 2001);
  });

  test('--duration with --rate: open loop, rate × duration operations', async () => {
    const result = await benchJson('range', '--duration', '1s', '--rate', '300', '--clients', '10', '--consistency', 's');
    assertWellFormed(result, 300);
    assert.equal(result.options.durationSecs, 1);
  });

  test('--warmup: the load runs that long first, and only the measured --duration is reported', async () => {
    const { result, handled } = await handledDuring(['Put'], () =>
      benchJson('put', '--warmup', '1s', '--duration', '1s', '--rate', '200', '--clients', '10', '--key-prefix', '/warmup/'),
    );
    assertWellFormed(result, 200);
    assert.equal(result.options.warmupSecs, 1);
    assert.equal(handled.Put, 400);
    // Seconds count from the measured start; the last second holds the operations completing after it.
    assert.ok(result.totalSecs < 1.5, String(result.totalSecs));
  });

  test('--rate: the generator reports how late it started operations; close to nothing while its clients keep up', async () => {
    const keepingUp = await benchJson('range', '--duration', '1s', '--rate', '100', '--clients', '20', '--consistency', 's');
    const onTime = keepingUp.generator.startLagSecs!;
    assert.ok(0 <= onTime.p50 && onTime.p50 <= onTime.p99 && onTime.p99 <= onTime.slowest, JSON.stringify(onTime));
    assert.ok(onTime.p50 < 0.05, JSON.stringify(onTime));
    // One client and 4,000 ranges due within 0.2 s: each waits for the one before (no gRPC round
    // trip here takes under 50 µs), so the last ones start long after they were due.
    const behind = await benchJson('range', '--duration', '0.2s', '--rate', '20000', '--clients', '1', '--consistency', 's');
    assertWellFormed(behind, 4000);
    assert.ok(behind.generator.startLagSecs!.slowest > 0.1, JSON.stringify(behind.generator.startLagSecs));
    // Without --rate an operation is due when a client is free: nothing to report.
    const closedLoop = await benchJson('put', '--total', '10', '--clients', '2', '--key-prefix', '/lag-closed/');
    assert.equal(closedLoop.generator.startLagSecs, null);
    const text = await bench('put', '--endpoints', etcd.endpoint, '--duration', '0.3s', '--rate', '100', '--key-prefix', '/lag-text/');
    assert.match(text.stdout, /^ {2}Start lag:\t50% in \d+\.\d{4} secs, 99% in \d+\.\d{4} secs, slowest \d+\.\d{4} secs \(from due to sent\)$/m);
  });

  test('the text summary has etcd benchmark layout', async () => {
    const run = await bench('put', '--endpoints', etcd.endpoint, '--total', '200', '--clients', '5', '--key-prefix', '/text/');
    assert.equal(run.code, 0);
    const lines = run.stdout.split('\n');
    const expectOrder = ['Summary:', '  Total:\t', '  Slowest:\t', '  Fastest:\t', '  Average:\t', '  Stddev:\t', '  Requests/sec:\t', 'Response time histogram:', 'Latency distribution:', '  10% in ', '  50% in ', '  99.9% in ', 'Generator:', '  CPU:\t'];
    let at = 0;
    for (const start of expectOrder) {
      const found = lines.findIndex((l, i) => i >= at && l.startsWith(start));
      assert.ok(found >= 0, `expected a line starting ${JSON.stringify(start)} after line ${at}:\n${run.stdout}`);
      at = found;
    }
    assert.match(run.stdout, /^ {2}Total:\t\d+\.\d{4} secs\.$/m);
    assert.match(run.stdout, /^ {2}\d+\.\d{4} \[\d+\]\t\|∎*$/m);
  });
});

describe('errors', () => {
  test('server errors are counted by code and message; the summary is still printed; exit 1', async () => {
    // Above etcd's 1.5 MiB request limit, below its gRPC message limit.
    const run = await bench('put', '--endpoints', etcd.endpoint, '--total', '20', '--clients', '4', '--val-size', '1600000');
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^Summary:$/m);
    assert.match(run.stdout, /^Error distribution:\n {2}\[20\]\trpc error: code = InvalidArgument desc = etcdserver: request is too large$/m);
  });

  test('an unreachable endpoint fails the run with a message, exit 1', async () => {
    const run = await bench('put', '--endpoints', '127.0.0.1:1', '--total', '10');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot connect to http:\/\/127\.0\.0\.1:1/);
  });

  test('bad flags exit 2 with a message', async () => {
    const cases: [string[], RegExp][] = [
      [[], /missing workload/],
      [['nope'], /unknown workload nope/],
      [['put', '--bogus'], /unknown flag --bogus/],
      [['put', '--clients', 'many'], /--clients: not a whole number/],
      [['put', '--clients', '0'], /--clients must be at least 1/],
      [['put', '--total', '10', '--duration', '1s'], /not both/],
      [['put', '--total', '10', '--warmup', '1s'], /--warmup needs --duration/],
      [['watch', '--duration', '2s', '--warmup', '1s'], /--warmup does not apply to watch/],
      [['put', '--duration', '10'], /bad duration/],
      [['put', '--rate', '-1'], /--rate must be between/],
      [['range', '--consistency', 'x'], /--consistency must be l or s/],
      [['range', '--read-ratio', '0.5'], /--read-ratio does not apply to range/],
      [['mixed', '--read-ratio', '2'], /--read-ratio must be between 0 and 1/],
      [['put', '--key-size', '2', '--key-space-size', '1000'], /--key-size 2 is too small/],
      [['put', '--threads', '3', '--conns', '2', '--clients', '10'], /--threads 3 needs at least as many --conns/],
      [['put', '--endpoints', 'https://127.0.0.1:2379'], /TLS endpoints are not supported/],
      [['put', '--endpoints', 'localhost'], /bad endpoint/],
      [['put', '--sequential-keys=maybe'], /expected true or false/],
      [['put', 'extra'], /unexpected argument extra/],
    ];
    for (const [argv, message] of cases) {
      const run = await bench(...argv);
      assert.equal(run.code, 2, argv.join(' '));
      assert.match(run.stderr, message, argv.join(' '));
      assert.equal(run.stdout, '');
    }
  });

  test('--help prints the usage, exit 0', async () => {
    const run = await bench('--help');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: tsetcd bench <workload> \[flags\]/);
    for (const flag of ['--endpoints', '--conns', '--clients', '--total', '--duration', '--rate', '--threads', '--json', '--hdr-log', '--report']) {
      assert.ok(run.stdout.includes(flag), flag);
    }
  });
});
