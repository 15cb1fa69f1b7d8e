// /metrics: valid Prometheus text; etcd's metrics with real etcd's types and label names; the
// counters follow the writes (committed and applied indexes, gRPC calls, WAL fsyncs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { server, tempDir, type ServerProcess } from '../helpers/processes.js';

let root: string;
let etcd: ServerProcess;
let tsetcd: ServerProcess;

before(async () => {
  root = tempDir('http-metrics');
  etcd = await server('etcd', { dataDir: path.join(root, 'etcd') });
  tsetcd = await server('tsetcd', { dataDir: path.join(root, 'tsetcd') });
  await Promise.all([etcd.start(), tsetcd.start()]);
});

after(async () => {
  await Promise.all([etcd?.destroy(), tsetcd?.destroy()]);
  fs.rmSync(root, { recursive: true, force: true });
});

interface Family {
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text exposition format, failing on any line that is not valid in it. */
function parse(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { type: '', help: '', samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'TYPE') family(meta[2]!).type = meta[3]!;
      else family(meta[2]!).help = meta[3]!;
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const value = Number(m[3] === '+Inf' ? Infinity : m[3]);
    assert.ok(!Number.isNaN(value), `not a number: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k!] = v!;
    const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
    const owner = families.has(m[1]!) ? m[1]! : base;
    assert.ok(families.has(owner), `sample before its TYPE: ${line}`);
    family(owner).samples.push({ name: m[1]!, labels, value });
  }
  return families;
}

async function scrape(s: ServerProcess): Promise<Map<string, Family>> {
  const res = await fetch(`${s.clientUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  assert.ok(f !== undefined, `no ${name}`);
  const sample = f.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(sample !== undefined, `no ${name} ${JSON.stringify(labels)}`);
  return sample.value;
}

const ETCD_METRICS = [
  'etcd_server_has_leader',
  'etcd_server_is_leader',
  'etcd_server_leader_changes_seen_total',
  'etcd_server_proposals_committed_total',
  'etcd_server_proposals_applied_total',
  'etcd_server_proposals_pending',
  'etcd_server_proposals_failed_total',
  'etcd_server_health_success',
  'etcd_server_health_failures',
  'etcd_disk_wal_fsync_duration_seconds',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_debugging_mvcc_db_total_size_in_bytes',
  'etcd_debugging_mvcc_current_revision',
  'grpc_server_started_total',
  'grpc_server_handled_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
];

test("etcd's metrics are there, with real etcd's types, help texts and label names", async () => {
  const [expected, actual] = await Promise.all([scrape(etcd), scrape(tsetcd)]);
  for (const name of ETCD_METRICS) {
    const e = expected.get(name);
    const a = actual.get(name);
    assert.ok(e !== undefined && a !== undefined, name);
    assert.equal(a.type, e.type, `${name} type`);
    if (!name.startsWith('process_')) assert.equal(a.help, e.help, `${name} help`);
    const labelNames = (f: Family) => [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))].sort().join(',');
    assert.equal(labelNames(a), labelNames(e), `${name} labels`);
  }
  const buckets = (f: Family) => f.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels['le']);
  assert.deepEqual(buckets(actual.get('etcd_disk_wal_fsync_duration_seconds')!), buckets(expected.get('etcd_disk_wal_fsync_duration_seconds')!));
  assert.ok(actual.has('nodejs_eventloop_lag_seconds'));
  // Every series of a registered method exists from the start, as etcd's do.
  assert.equal(value(actual, 'grpc_server_handled_total', { grpc_method: 'Compact', grpc_code: 'DataLoss', grpc_type: 'unary' }), 0);
  assert.equal(value(actual, 'grpc_server_started_total', { grpc_method: 'Watch', grpc_type: 'bidi_stream' }), 0);
  assert.equal(value(actual, 'etcd_server_has_leader'), 1);
  assert.equal(value(actual, 'etcd_server_is_leader'), 1);
  assert.equal(value(actual, 'etcd_server_leader_changes_seen_total'), 1);
});

test('counters move with writes: proposals, gRPC calls (the gateway calls gRPC), fsyncs, revision', async () => {
  const before = await scrape(tsetcd);
  const n = 25;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${tsetcd.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(`m${i}`).toString('base64') }) });
    assert.equal(res.status, 200);
  }
  const bad = await fetch(`${tsetcd.clientUrl}/v3/kv/put`, { method: 'POST', body: '{"key":""}' });
  assert.equal(bad.status, 400);
  const after = await scrape(tsetcd);
  const grew = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
  assert.ok(grew('etcd_server_proposals_committed_total') >= n);
  assert.ok(grew('etcd_server_proposals_applied_total') >= n);
  assert.equal(grew('etcd_debugging_mvcc_current_revision'), n);
  assert.equal(grew('grpc_server_started_total', { grpc_method: 'Put' }), n + 1);
  assert.equal(grew('grpc_server_handled_total', { grpc_method: 'Put', grpc_code: 'OK' }), n);
  assert.equal(grew('grpc_server_handled_total', { grpc_method: 'Put', grpc_code: 'InvalidArgument' }), 1);
  assert.ok(grew('etcd_disk_wal_fsync_duration_seconds_count') >= 1);
  assert.ok(value(after, 'etcd_disk_wal_fsync_duration_seconds_bucket', { le: '+Inf' }) > 0);
  assert.equal(value(after, 'etcd_server_proposals_pending'), 0);
  assert.ok(value(after, 'etcd_mvcc_db_total_size_in_bytes') > 0);
});
