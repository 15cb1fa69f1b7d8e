// The v3 JSON gateway and HTTP endpoints, side by side with real etcd 3.4: the same requests, in
// the same order, to fresh members of both; status codes and bodies must be equal byte for byte
// once ids, terms, versions and ports are masked. Bad input must leave both serving, unchanged.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { server, tempDir, type ServerProcess } from '../helpers/processes.js';

/** Small, so oversized requests stay small too. */
const MAX_REQUEST_BYTES = 10_000;
const FLAGS = [`--max-request-bytes=${MAX_REQUEST_BYTES}`];

let root: string;
let etcd: ServerProcess;
let tsetcd: ServerProcess;

before(async () => {
  root = tempDir('http-gateway');
  etcd = await server('etcd', { dataDir: path.join(root, 'etcd'), flags: FLAGS });
  tsetcd = await server('tsetcd', { dataDir: path.join(root, 'tsetcd'), flags: FLAGS });
  await Promise.all([etcd.start(), tsetcd.start()]);
});

after(async () => {
  await Promise.all([etcd?.destroy(), tsetcd?.destroy()]);
  fs.rmSync(root, { recursive: true, force: true });
});

interface Reply {
  status: number;
  contentType: string | null;
  body: string;
}

async function request(s: ServerProcess, urlPath: string, body?: string, method = 'POST'): Promise<Reply> {
  const res = await fetch(s.clientUrl + urlPath, { method, ...(body === undefined ? {} : { body }) });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** Ids, terms, indexes, sizes, versions and ports differ between any two clusters. */
function mask(text: string): string {
  return text
    .replace(/"(cluster_id|member_id|raft_term|leader|ID|raftTerm|raftIndex|raftAppliedIndex|dbSize|dbSizeInUse)":"\d+"/g, '"$1":"*"')
    .replace(/"version":"3\.4\.\d+"/g, '"version":"3.4.*"')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:*');
}

/** Sends the request to etcd, then to tsetcd; asserts equal status and masked body; returns etcd's reply. */
async function same(urlPath: string, body?: string, method = 'POST'): Promise<Reply> {
  const expected = await request(etcd, urlPath, body, method);
  const actual = await request(tsetcd, urlPath, body, method);
  const what = `${method} ${urlPath} ${(body ?? '').slice(0, 200)}`;
  assert.equal(actual.status, expected.status, `${what}: status`);
  assert.equal(mask(actual.body), mask(expected.body), `${what}: body`);
  assert.equal(actual.contentType, expected.contentType, `${what}: content type`);
  return expected;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const json = (v: unknown) => JSON.stringify(v);

describe('HTTP endpoints', () => {
  test('/version: the same fields', async () => {
    for (const s of [etcd, tsetcd]) {
      const r = await request(s, '/version', undefined, 'GET');
      assert.equal(r.status, 200);
      assert.equal(r.contentType, 'application/json');
      assert.deepEqual(Object.keys(JSON.parse(r.body) as object), ['etcdserver', 'etcdcluster']);
    }
    await same('/version', '', 'POST');
  });

  test('/health with a leader; wrong method; unknown paths', async () => {
    assert.equal((await same('/health', undefined, 'GET')).body, '{"health":"true"}');
    await same('/health', '', 'POST');
    await same('/nope', undefined, 'GET');
    await same('/v3alpha/kv/range', json({ key: b64('a') }));
  });
});

describe('JSON gateway', () => {
  test('put, range (prefix, limit, revision, keys_only, count_only, sort), deleterange', async () => {
    await same('/v3/kv/put', json({ key: b64('foo'), value: b64('bar') }));
    await same('/v3/kv/put', json({ key: b64('foo1'), value: b64('one'), prev_kv: true }));
    await same('/v3/kv/put', json({ key: b64('foo1'), value: b64('uno'), prev_kv: true }));
    await same('/v3/kv/put', json({ key: b64('foo2'), value: b64('') }));
    await same('/v3/kv/put', json({ key: b64('zoo'), value: b64('<&>') }));
    const prefix = { key: b64('foo'), range_end: b64('fop') };
    await same('/v3/kv/range', json(prefix));
    await same('/v3/kv/range', json({ ...prefix, limit: 1 }));
    await same('/v3/kv/range', json({ ...prefix, limit: '2', revision: 3 }));
    await same('/v3/kv/range', json({ ...prefix, keys_only: true }));
    await same('/v3/kv/range', json({ ...prefix, count_only: true }));
    await same('/v3/kv/range', json({ ...prefix, sort_order: 'DESCEND', sort_target: 'MOD' }));
    await same('/v3/kv/range', json({ ...prefix, min_mod_revision: 4, serializable: true }));
    await same('/v3/kv/range', json({ key: b64('nothing') }));
    await same('/v3/kv/range', json({ key: 'AA==', range_end: 'AA==' }));
    await same('/v3beta/kv/range', json({ key: b64('zoo') }));
    await same('/v3/kv/deleterange', json({ key: b64('foo2'), prev_kv: true }));
    await same('/v3/kv/deleterange', json({ key: b64('none') }));
  });

  test('txn: compares, both branches, nested txns', async () => {
    await same('/v3/kv/txn', json({
      compare: [{ key: b64('foo'), target: 'VALUE', value: b64('bar') }, { key: b64('foo1'), target: 'VERSION', result: 'GREATER', version: 1 }],
      success: [{ request_put: { key: b64('foo'), value: b64('baz') } }, { request_range: { key: b64('foo') } }, { request_txn: {} }],
      failure: [{ request_delete_range: { key: b64('foo') } }],
    }));
    await same('/v3/kv/txn', json({
      compare: [{ key: b64('foo'), target: 'MOD', result: 'LESS', mod_revision: 2 }],
      failure: [{ requestDeleteRange: { key: b64('zoo'), prev_kv: true } }, { request_txn: { success: [{ request_range: { key: b64('foo1') } }] } }],
    }));
    await same('/v3/kv/txn', '{}');
  });

  test('leases: grant, duplicate, time to live with keys, leases, keepalive, revoke', async () => {
    await same('/v3/lease/grant', json({ TTL: 600, ID: 1234 }));
    await same('/v3/lease/grant', json({ TTL: 600, ID: 1234 }));
    await same('/v3/kv/put', json({ key: b64('leased'), value: b64('x'), lease: 1234 }));
    await same('/v3/lease/timetolive', json({ ID: 99 }));
    const ttl = (await request(tsetcd, '/v3/lease/timetolive', json({ ID: '1234', keys: true }))).body;
    assert.match(mask(ttl), /^\{"header":\{.*\},"ID":"\*","TTL":"(599|600)","grantedTTL":"600","keys":\["bGVhc2Vk"\]\}$/);
    await same('/v3/lease/leases', '{}');
    await same('/v3/kv/lease/leases', '');
    await same('/v3/lease/keepalive', json({ ID: 1234 }));
    await same('/v3/lease/keepalive', json({ ID: 99 }));
    await same('/v3/lease/revoke', json({ ID: 1234 }));
    await same('/v3/kv/lease/revoke', json({ ID: 1234 }));
    await same('/v3/kv/range', json({ key: b64('leased') }));
  });

  test('compaction: then compacted and future revisions', async () => {
    await same('/v3/kv/compaction', json({ revision: '3' }));
    await same('/v3/kv/compaction', json({ revision: '3' }));
    await same('/v3/kv/compaction', json({ revision: '1000' }));
    await same('/v3/kv/range', json({ key: b64('foo'), revision: 2 }));
    await same('/v3/kv/range', json({ key: b64('foo'), revision: 1000 }));
  });

  test('maintenance status and member list', async () => {
    await same('/v3/maintenance/status', '{}');
    await same('/v3/cluster/member/list', '{}');
  });

  test('bad input: etcd error bodies and statuses; both keep serving, nothing stored changes', async () => {
    const everything = json({ key: 'AA==', range_end: 'AA==' });
    const before = await same('/v3/kv/range', everything);
    const bad: [string, string | undefined, string?][] = [
      ['/v3/kv/put', json({ key: '' })],
      ['/v3/kv/put', json({ key: '', value: b64('v') })],
      ['/v3/kv/range', ''],
      ['/v3/kv/deleterange', 'null'],
      ['/v3/kv/put', json({ key: b64('k'), value: b64('v'), ignore_value: true })],
      ['/v3/kv/txn', json({ success: [{ request_put: { key: b64('k') } }, { request_put: { key: b64('k') } }] })],
      ['/v3/kv/txn', json({ success: [{}] })],
      ['/v3/kv/put', '{bad'],
      ['/v3/kv/put', '{"key":"Zm9v"'],
      ['/v3/kv/put', '[]'],
      ['/v3/kv/put', json({ key: '%%%' })],
      ['/v3/kv/put', json({ key: b64('k'), value: 'Zm9v=' })],
      ['/v3/kv/put', json({ key: 5 })],
      ['/v3/kv/put', json({ key: b64('k'), lease: 'abc' })],
      ['/v3/kv/put', json({ key: b64('k'), prev_kv: 'yes' })],
      ['/v3/kv/range', json({ key: b64('k'), sort_order: 'SIDEWAYS' })],
      ['/v3/kv/txn', json({ success: {} })],
      ['/v3/lease/revoke', json({ ID: 1.5 })],
      ['/v3/watch', '{bad'],
      ['/v3/lease/keepalive', '[1]'],
      ['/v3/nope', '{}'],
      ['/v3/kv/nope', '{}'],
      ['/v3/kv/range', undefined, 'GET'],
      ['/v3/kv/put', json({ key: b64('k'), value: b64('v') }), 'PUT'],
      // Over --max-request-bytes: etcd's "request is too large"; over that plus gRPC's 512 KiB: gRPC's limit.
      ['/v3/kv/put', json({ key: b64('big'), value: Buffer.alloc(2 * MAX_REQUEST_BYTES).toString('base64') })],
      ['/v3/kv/put', json({ key: b64('big'), value: Buffer.alloc(MAX_REQUEST_BYTES + 600 * 1024).toString('base64') })],
    ];
    for (const [urlPath, body, method] of bad) {
      const r = await same(urlPath, body, method);
      assert.ok(r.status >= 400 && r.status < 600, `${urlPath} ${r.status}`);
    }
    assert.equal(mask((await same('/v3/kv/range', everything)).body), mask(before.body));
    assert.equal((await same('/health', undefined, 'GET')).status, 200);
  });

  test('tsetcd: a body far beyond any request it could carry is refused with 413 without being read', async () => {
    const huge = ' '.repeat(4 * (MAX_REQUEST_BYTES + 512 * 1024) + 1);
    const r = await request(tsetcd, '/v3/kv/put', huge);
    assert.equal(r.status, 413);
    assert.equal(r.body, '{"error":"http: request body too large","message":"http: request body too large","code":8}');
    assert.equal((await request(tsetcd, '/health', undefined, 'GET')).status, 200);
  });

  test('/v3/watch: a streamed response, one {"result":...} line per watch response', async () => {
    const watchers = [etcd, tsetcd].map((s) => openStream(s, '/v3/watch', json({ create_request: { key: b64('w'), range_end: b64('x'), prev_kv: true } })));
    await Promise.all(watchers.map((w) => w.lines(1)));
    await same('/v3/kv/put', json({ key: b64('w1'), value: b64('a') }));
    await same('/v3/kv/put', json({ key: b64('w1'), value: b64('b') }));
    await same('/v3/kv/deleterange', json({ key: b64('w'), range_end: b64('x') }));
    const [expected, actual] = await Promise.all(watchers.map((w) => w.lines(4)));
    assert.equal(expected!.length, 4);
    assert.deepEqual(actual!.map(mask), expected!.map(mask));
    for (const w of watchers) w.close();
    // Several requests in one body, a cancel among them; a start revision that was compacted.
    await sameStream('/v3/watch', json({ create_request: { key: b64('a') } }) + json({ create_request: { key: b64('b') } }) + json({ cancel_request: { watch_id: 0 } }), 3);
    await sameStream('/v3/watch', json({ create_request: { key: b64('foo'), start_revision: 2 } }), 2);
  });
});

/** The first `n` lines of a streamed response from both, masked, must be equal. */
async function sameStream(urlPath: string, body: string, n: number): Promise<void> {
  const streams = [etcd, tsetcd].map((s) => openStream(s, urlPath, body));
  const [expected, actual] = await Promise.all(streams.map((w) => w.lines(n)));
  for (const w of streams) w.close();
  assert.deepEqual(actual!.map(mask), expected!.map(mask), `${urlPath} ${body}`);
}

interface OpenStream {
  /** Resolves once `n` lines arrived, with all of them. */
  lines(n: number): Promise<string[]>;
  close(): void;
}

/** POSTs to a streaming endpoint and collects the response's lines as they come. */
function openStream(s: ServerProcess, urlPath: string, body: string): OpenStream {
  const controller = new AbortController();
  const got: string[] = [];
  let waiters: { n: number; resolve: (l: string[]) => void }[] = [];
  void (async () => {
    try {
      const res = await fetch(s.clientUrl + urlPath, { method: 'POST', body, signal: controller.signal });
      let pending = '';
      for await (const chunk of res.body!) {
        pending += Buffer.from(chunk as Uint8Array).toString();
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          got.push(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
        waiters = waiters.filter((w) => (got.length >= w.n ? (w.resolve(got.slice()), false) : true));
      }
    } catch {
      // aborted
    }
  })();
  return {
    lines: (n) => (got.length >= n ? Promise.resolve(got.slice()) : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () => controller.abort(),
  };
}
