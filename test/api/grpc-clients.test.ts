// Real etcd clients against the gRPC transport: etcdctl (grpc-go) and the etcd3 npm client
// (@grpc/grpc-js), with in-memory KV handlers behind it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { GrpcServer, KVService } from '../../src/main/api/grpc/index.js';
import { Errors } from '../../src/main/errors.js';
import { etcdctl } from '../helpers/etcdctl.js';
import { MemoryKV } from './memory-kv.js';

describe('etcd clients against the gRPC transport', () => {
  const kv = new MemoryKV();
  const server = new GrpcServer();
  let endpoint = '';

  before(async () => {
    server.addService(KVService, {
      ...kv.handlers,
      // Any error thrown by a handler reaches the client through toGrpcError.
      Compact: () => {
        throw Errors.compacted;
      },
    });
    const { port } = await server.listen('127.0.0.1', 0);
    endpoint = `127.0.0.1:${port}`;
  });
  after(() => server.close());

  describe('etcdctl', () => {
    it('put, get, get --prefix', async () => {
      assert.equal((await etcdctl(endpoint, ['put', 'ctl/a', 'one'])).stdout, 'OK\n');
      assert.equal((await etcdctl(endpoint, ['put', 'ctl/b', 'two'])).stdout, 'OK\n');
      assert.equal((await etcdctl(endpoint, ['get', 'ctl/a'])).stdout, 'ctl/a\none\n');
      assert.equal((await etcdctl(endpoint, ['get', '--prefix', 'ctl/'])).stdout, 'ctl/a\none\nctl/b\ntwo\n');
      const json = JSON.parse((await etcdctl(endpoint, ['get', 'ctl/a', '-w', 'json'])).stdout) as {
        header: { cluster_id: number; member_id: number; revision: number };
        kvs: { key: string; value: string }[];
      };
      assert.equal(Buffer.from(json.kvs[0]!.value, 'base64').toString(), 'one');
      assert.equal(json.header.revision, kv.revision);
    });

    it('del', async () => {
      await etcdctl(endpoint, ['put', 'ctl/del', 'x']);
      assert.equal((await etcdctl(endpoint, ['del', 'ctl/del'])).stdout, '1\n');
      assert.equal((await etcdctl(endpoint, ['get', 'ctl/del'])).stdout, '');
    });

    it('txn (interactive), both branches', async () => {
      await etcdctl(endpoint, ['put', 'ctl/t', 'v1']);
      const txn = (cmp: string) => etcdctl(endpoint, ['txn'], { input: `${cmp}\n\nput ctl/t yes\n\nput ctl/t no\n\n` });
      const hit = await txn('value("ctl/t") = "v1"');
      assert.equal(hit.code, 0, hit.stderr);
      assert.match(hit.stdout, /^SUCCESS\n/);
      assert.equal((await etcdctl(endpoint, ['get', 'ctl/t', '--print-value-only'])).stdout, 'yes\n');
      const miss = await txn('value("ctl/t") = "v1"');
      assert.match(miss.stdout, /^FAILURE\n/);
      assert.equal((await etcdctl(endpoint, ['get', 'ctl/t', '--print-value-only'])).stdout, 'no\n');
    });

    it('a handler error reaches etcdctl with etcd’s exact message', async () => {
      const r = await etcdctl(endpoint, ['get', 'ctl/a', '--rev=1000000']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^Error: etcdserver: mvcc: required revision is a future revision$/m);
      const c = await etcdctl(endpoint, ['compact', '5']);
      assert.match(c.stderr, /^Error: etcdserver: mvcc: required revision has been compacted$/m);
    });

    it('an unregistered service answers UNIMPLEMENTED as grpc-go words it', async () => {
      const r = await etcdctl(endpoint, ['member', 'list']);
      assert.match(r.stderr, /code = Unimplemented desc = unknown service etcdserverpb\.Cluster/);
    });

    it('etcdctl check perf --load=s (50 clients) runs without errors for a few seconds', { timeout: 30_000 }, async () => {
      // check perf refuses to start if its prefix has keys; it then writes as fast as it may.
      const before = kv.revision;
      const r = await etcdctl(endpoint, ['check', 'perf', '--load=s'], { timeoutMs: 4_000 });
      assert.ok(kv.revision - before > 100, `only ${kv.revision - before} writes: ${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /FAIL: too many errors/);
    });
  });

  describe('etcd3 (npm, @grpc/grpc-js)', () => {
    let client: Etcd3;
    before(() => {
      client = new Etcd3({ hosts: endpoint });
    });
    after(() => client.close());

    it('put, get, getAll, delete', async () => {
      await client.put('js/a').value('1');
      await client.put('js/b').value(Buffer.from([0, 255, 7]));
      assert.equal(await client.get('js/a').string(), '1');
      assert.deepEqual(await client.get('js/b').buffer(), Buffer.from([0, 255, 7]));
      assert.deepEqual(await client.getAll().prefix('js/').keys(), ['js/a', 'js/b']);
      assert.equal(await client.getAll().prefix('js/').count(), 2);
      await client.delete().key('js/a');
      assert.equal(await client.get('js/a').string(), null);
    });

    it('transactions', async () => {
      await client.put('js/t').value('v1');
      const hit = await client.if('js/t', 'Value', '==', 'v1').then(client.put('js/t').value('v2')).else(client.put('js/t').value('no')).commit();
      assert.equal(hit.succeeded, true);
      const miss = await client.if('js/t', 'Value', '==', 'v1').then(client.put('js/t').value('v3')).commit();
      assert.equal(miss.succeeded, false);
      assert.equal(await client.get('js/t').string(), 'v2');
    });

    it('handler errors arrive as etcd errors with the exact message', async () => {
      await assert.rejects(client.get('js/t').revision(1_000_000).string(), (e: Error) => {
        assert.match(e.message, /etcdserver: mvcc: required revision is a future revision/);
        return true;
      });
    });
  });
});
