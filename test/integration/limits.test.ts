// Oversized and over-limit requests are refused with etcd's errors, side by side with real etcd
// under the same limits; the member keeps serving and stored data is unchanged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startServer, type ServerProcess } from '../helpers/processes.js';

const LIMITS = ['--max-request-bytes=1000', '--max-txn-ops=4'];
let etcd: ServerProcess;
let tsetcd: ServerProcess;

before(async () => {
  [etcd, tsetcd] = await Promise.all([startServer('etcd', { flags: LIMITS }), startServer('tsetcd', { flags: LIMITS })]);
});

after(async () => {
  await Promise.all([etcd?.destroy(), tsetcd?.destroy()]);
});

/** A fresh client per call: etcd3's circuit breaker would otherwise stop calling after errors. */
async function withClient<T>(s: ServerProcess, call: (c: Etcd3) => Promise<T>): Promise<T> {
  const c = new Etcd3({ hosts: s.clientUrl });
  try {
    return await call(c);
  } finally {
    c.close();
  }
}

/** [etcd's outcome, tsetcd's outcome]: 'ok' or the error message. */
function outcomes(call: (c: Etcd3) => Promise<unknown>): Promise<string[]> {
  return Promise.all(
    [etcd, tsetcd].map((s) =>
      withClient(s, call).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    ),
  );
}

test('requests over the limits get the same errors as from etcd; data unchanged; still serving', async () => {
  for (const s of [etcd, tsetcd]) await withClient(s, (c) => c.put('guard').value('before').exec());

  const [etcdBig, tsetcdBig] = await outcomes((c) => c.put('big').value('x'.repeat(2000)).exec());
  assert.match(etcdBig!, /etcdserver: request is too large/);
  assert.equal(tsetcdBig, etcdBig);

  // Beyond the gRPC receive limit (--max-request-bytes + 512 KiB): refused before decoding.
  const [etcdHuge, tsetcdHuge] = await outcomes((c) => c.put('huge').value('y'.repeat(600 * 1024)).exec());
  assert.match(etcdHuge!, /received message larger than max/);
  assert.equal(tsetcdHuge, etcdHuge);

  const ops = Array.from({ length: 5 }, (_, i) => ({ request_put: { key: Buffer.from(`o${i}`), value: Buffer.from('v') } }));
  const [etcdOps, tsetcdOps] = await outcomes((c) => c.kv.txn({ success: ops }));
  assert.match(etcdOps!, /too many operations in txn request/);
  assert.equal(tsetcdOps, etcdOps);

  for (const s of [etcd, tsetcd]) {
    await withClient(s, async (c) => {
      assert.equal(await c.get('guard').string(), 'before');
      assert.equal(await c.get('big').string(), null);
      assert.equal(await c.getAll().prefix('o').count(), 0);
      await c.put('after').value('fine');
      assert.equal(await c.get('after').string(), 'fine');
    });
  }
});
