// The etcd3 npm client (over @grpc/grpc-js) against bin/tsetcd and real etcd side by side:
// the same calls must give the same results, revisions and errors included.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startServer, type ServerProcess } from '../helpers/processes.js';

let etcd: ServerProcess;
let tsetcd: ServerProcess;
let clients: { etcd: Etcd3; tsetcd: Etcd3 };

before(async () => {
  [etcd, tsetcd] = await Promise.all([startServer('etcd'), startServer('tsetcd')]);
  clients = {
    etcd: new Etcd3({ hosts: etcd.clientUrl }),
    tsetcd: new Etcd3({ hosts: tsetcd.clientUrl }),
  };
});

after(async () => {
  clients?.etcd.close();
  clients?.tsetcd.close();
  await Promise.all([etcd?.destroy(), tsetcd?.destroy()]);
});

/** Runs `call` on both servers and asserts the outcomes (value or error message) are equal. */
async function same<T>(label: string, call: (c: Etcd3) => Promise<T>): Promise<T | undefined> {
  const settle = async (c: Etcd3) => {
    try {
      return { value: stripIds(await call(c)) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const want = await settle(clients.etcd);
  const got = await settle(clients.tsetcd);
  assert.deepEqual(got, want, label);
  return got.value as T | undefined;
}

/** Header ids and terms differ between clusters. */
function stripIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripIds);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (['cluster_id', 'member_id', 'raft_term', 'ID', 'leader'].includes(k)) continue;
      out[k] = stripIds(x);
    }
    return out;
  }
  return v;
}

test('KV through the etcd3 client: put, get, ranges, delete, txn, compact', async () => {
  await same('put', (c) => c.put('k1').value('v1').exec());
  await same('put', (c) => c.put('k2').value('v2').exec());
  await same('put prevKv', (c) => c.put('k1').value('v1b').getPrevious());
  await same('put k3', (c) => c.put('k3').value(Buffer.from([0, 1, 2, 255])).exec());
  await same('get', (c) => c.get('k1').string());
  await same('get missing', (c) => c.get('missing').string());
  await same('get buffer', (c) => c.get('k3').buffer());
  await same('prefix', (c) => c.getAll().prefix('k').strings());
  await same('prefix sorted desc by mod', (c) => c.getAll().prefix('k').sort('Mod', 'Descend').keys());
  await same('limit', (c) => c.getAll().prefix('k').limit(2).exec());
  await same('count', (c) => c.getAll().prefix('k').count());
  await same('keys only', (c) => c.getAll().prefix('k').keys());
  await same('at revision', (c) => c.get('k1').revision(2).string());
  await same('future revision', (c) => c.get('k1').revision(1000).string());
  await same('txn success', (c) =>
    c.if('k1', 'Value', '==', 'v1b').then(c.put('k4').value('t'), c.get('k2')).else(c.put('k5').value('f')).commit(),
  );
  await same('txn failure', (c) =>
    c.if('k1', 'Version', '>', 5).then(c.put('k4').value('t2')).else(c.get('k4'), c.delete().key('k2')).commit(),
  );
  await same('delete prefix prevKv', (c) => c.delete().prefix('k').getPrevious());
  await same('all gone', (c) => c.getAll().prefix('k').count());
  await same('compact', (c) => c.kv.compact({ revision: 4 }));
  await same('read compacted', (c) => c.get('k1').revision(3).string());
  await same('hashkv', (c) => c.maintenance.hashKV({ revision: 0 }));
});

test('errors: empty key, duplicate txn keys, too many ops', async () => {
  await same('empty key', (c) => c.put('').value('x').exec());
  await same('duplicate key', (c) => c.if('a', 'Version', '==', 0).then(c.put('d').value('1'), c.put('d').value('2')).commit());
  const ops = Array.from({ length: 129 }, (_, i) => ({ request_put: { key: Buffer.from(`m${i}`), value: Buffer.from('v') } }));
  await same('too many ops', (c) => c.kv.txn({ success: ops }));
});

test('maintenance and cluster', async () => {
  const status = await clients.tsetcd.maintenance.status();
  assert.equal(status.leader, status.header.member_id);
  assert.equal(status.version, '3.4.0');
  assert.ok(Number(status.dbSize) > 0);
  const members = await clients.tsetcd.cluster.memberList({});
  assert.equal(members.members.length, 1);
  assert.deepEqual(members.members[0]!.clientURLs, [tsetcd.clientUrl]);
  assert.deepEqual(members.members[0]!.peerURLs, [tsetcd.peerUrl]);
});
