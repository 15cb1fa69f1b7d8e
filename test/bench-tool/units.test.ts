// The bench's parts on their own: flags, keys, thread plans, pacing, histogram figures.
import assert from 'node:assert/strict';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { parseBenchArgs, parseDurationMs, parseEndpoint, type BenchOptions } from '../../src/main/bench/flags.js';
import { latencyStats, newHistogram, percentileCurve, responseTimeBuckets } from '../../src/main/bench/histogram.js';
import { KeyGenerator } from '../../src/main/bench/keys.js';
import { prefixEnd } from '../../src/main/prefix-end.js';
import { planThreads } from '../../src/main/bench/plan.js';
import { scheduleFor } from '../../src/main/bench/schedule.js';

function options(...argv: string[]): BenchOptions {
  const parsed = parseBenchArgs(argv);
  assert.notEqual(parsed, 'help');
  return parsed as BenchOptions;
}

test('flags: etcd benchmark defaults, both flag forms, per-workload defaults', () => {
  const o = options('put');
  assert.deepEqual(o.endpoints, [{ url: 'http://127.0.0.1:2379' }]);
  assert.equal(o.conns, 1);
  assert.equal(o.clients, 1);
  assert.deepEqual(o.stop, { kind: 'total', total: 10000 });
  assert.deepEqual(o.keys, { prefix: '', size: 8, spaceSize: 1, sequential: false });
  assert.equal(o.valSize, 8);
  assert.equal(o.threads, 1);

  const w = options('watch-latency', '--clients=4', '--conns', '2', '--duration=1m30s', '--sequential-keys');
  assert.deepEqual(w.stop, { kind: 'duration', ms: 90_000 });
  assert.equal(w.rate, 100);
  assert.equal(w.keys.prefix, '/bench-watch/');
  assert.equal(w.keys.sequential, true);
  assert.deepEqual(options('watch-latency').stop, { kind: 'total', total: 1000 });
  assert.equal(options('put', '--threads', 'auto', '--conns', '1', '--clients', '1000').threads, 1);
  assert.equal(options('put', '--threads', 'auto', '--conns', '16', '--clients', '500').threads, Math.min(os.availableParallelism(), 5));
  // With a rate, the rate decides: 2,000/s is one thread's work, 6,000/s three threads'.
  assert.equal(options('put', '--threads', 'auto', '--conns', '16', '--clients', '1000', '--rate', '2000').threads, 1);
  assert.equal(options('put', '--threads', 'auto', '--conns', '16', '--clients', '10', '--rate', '6000').threads, Math.min(os.availableParallelism(), 3));
  assert.equal(parseBenchArgs(['put', '--help']), 'help');
});

test('durations and endpoints', () => {
  assert.equal(parseDurationMs('10s'), 10_000);
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('1.5m'), 90_000);
  assert.equal(parseDurationMs('1h2m3s'), 3_723_000);
  for (const bad of ['', '10', 's', '10 s', '-1s', '0s']) assert.throws(() => parseDurationMs(bad), bad);
  assert.deepEqual(parseEndpoint('127.0.0.1:2379'), { url: 'http://127.0.0.1:2379' });
  assert.deepEqual(parseEndpoint('http://localhost:2379/'), { url: 'http://localhost:2379' });
  assert.deepEqual(parseEndpoint('[::1]:2379'), { url: 'http://[::1]:2379' });
});

test('keys: zero-padded indices; threads interleave so sequential keys never collide', () => {
  const keyOptions = { prefix: '/k/', size: 4, spaceSize: 10_000, sequential: true };
  const threads = [0, 1, 2].map((t) => new KeyGenerator(keyOptions, 1, t, 3));
  const seen = new Set<string>();
  for (let seq = 0; seq < 100; seq++) for (const g of threads) seen.add(g.key(seq).toString());
  assert.equal(seen.size, 300);
  assert.ok(seen.has('/k/0000') && seen.has('/k/0299'));

  const txn = new KeyGenerator({ ...keyOptions, spaceSize: 10 }, 3, 0, 1);
  assert.deepEqual(txn.keys(3).map(String), ['/k/0009', '/k/0000', '/k/0001'], 'wraps around the key space');
  const random = new KeyGenerator({ ...keyOptions, sequential: false, spaceSize: 50 }, 1, 0, 1);
  for (let i = 0; i < 200; i++) assert.match(random.key(i).toString(), /^\/k\/00[0-4]\d$/);

  assert.deepEqual(prefixEnd(Buffer.from('/a/')), Buffer.from('/a0'));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from('b'));
});

test('plans: connections, clients, total and rate split over threads and add up', () => {
  const o = options('put', '--threads', '3', '--conns', '4', '--clients', '10', '--total', '1000', '--rate', '600', '--endpoints', 'a:1,b:2');
  const plans = planThreads(o);
  assert.deepEqual(plans.map((p) => p.connections.length), [2, 1, 1]);
  assert.deepEqual(plans.flatMap((p) => p.connections.map((e) => e.url)), ['http://a:1', 'http://b:2', 'http://a:1', 'http://b:2']);
  assert.deepEqual(plans.map((p) => p.clients), [4, 3, 3]);
  assert.deepEqual(plans.map((p) => p.total), [334, 333, 333]);
  assert.equal(plans.reduce((r, p) => r + p.rate, 0), 600);
});

test('open-loop schedule: operation k is due at start + k/rate, however late it is taken', async () => {
  const startMs = performance.now() - 1000;
  const schedule = scheduleFor({ startMs, total: 5, endMs: Infinity }, 100);
  // A second late: everything is overdue, and keeps its own due time (the wait counts as latency).
  const dues = [];
  for (let d = schedule.next(); d !== undefined; d = schedule.next()) dues.push(typeof d === 'number' ? d : await d);
  assert.deepEqual(
    dues.map((d) => Math.round(d! - startMs)),
    [0, 10, 20, 30, 40],
  );

  const now = performance.now();
  const paced = scheduleFor({ startMs: now, total: undefined, endMs: now + 50 }, 200);
  let n = 0;
  for (let d = paced.next(); d !== undefined; d = paced.next()) {
    const due = typeof d === 'number' ? d : await d;
    if (due === undefined) break;
    assert.ok(performance.now() >= due);
    n++;
  }
  assert.equal(n, 10, '200/s for 50 ms');
});

test('histogram figures: etcd buckets hold every sample; percentiles in order', () => {
  const h = newHistogram();
  for (let us = 1000; us <= 100_000; us += 1000) h.recordValue(us);
  const buckets = responseTimeBuckets(h);
  assert.equal(buckets.length, 11);
  assert.equal(buckets.reduce((n, b) => n + b.count, 0), 100);
  assert.ok(Math.abs(buckets[0]!.upToSecs - 0.001) < 1e-6);
  assert.ok(Math.abs(buckets[10]!.upToSecs - 0.1) < 0.0001);
  const stats = latencyStats(h);
  assert.ok(Math.abs(stats.averageSecs - 0.0505) < 0.0001);
  assert.ok(Math.abs(stats.percentiles.find((p) => p.percentile === 50)!.secs - 0.05) < 0.0001);
  const curve = percentileCurve(h);
  assert.equal(curve[0]!.percentile, 0);
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i]!.secs >= curve[i - 1]!.secs && curve[i]!.percentile > curve[i - 1]!.percentile);
  assert.deepEqual(responseTimeBuckets(newHistogram()), []);
});
