// A receiver that stops reading: the sender's socket backs up, its queue fills to the bound,
// later messages are dropped and counted, and Raft is told the peer is unreachable. Memory
// stays bounded; once the receiver reads again the queue drains, in order.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { freePort } from '../helpers/ports.js';
import { appMessage, closeAll, FakePeer, ID_A, ID_B, member, nextTurn, waitFor } from './harness.js';

afterEach(closeAll);

test('a paused receiver leads to a bounded queue and counted drops, not unbounded memory', async (t) => {
  const fake = new FakePeer();
  const port = await fake.listen();
  const maxQueuedMessages = 1000;
  // Pings are slowed down so the silent link is not redialed during the test.
  const a = member(ID_A, await freePort(), new Map([[ID_B, port]]), { maxQueuedMessages, pingIntervalMs: 60_000 });
  await a.transport.start();
  await waitFor('handshake', () => fake.sockets.length === 1 && fake.frames.length === 1);
  fake.sockets[0]!.pause();

  const entryBytes = 1024;
  const turns = 400;
  const perTurn = 100;
  const offered = turns * perTurn; // ~40 MB of entries
  let seq = 0;
  for (let turn = 0; turn < turns; turn++) {
    const batch = [];
    for (let i = 0; i < perTurn; i++) batch.push(appMessage(ID_A, ID_B, seq++, 1, entryBytes));
    a.transport.send(batch);
    await nextTurn();
    assert.ok(a.transport.stats().queued <= maxQueuedMessages);
  }
  const stats = a.transport.stats();
  t.diagnostic(`offered ${offered}, sent ${stats.sent}, queued ${stats.queued}, dropped ${stats.dropped}`);
  assert.ok(stats.dropped > offered / 2, `dropped ${stats.dropped} of ${offered}`);
  assert.equal(stats.sent + stats.dropped + stats.queued, offered);
  // What left the queue sits in kernel buffers and the socket's own buffer: a few MB at most.
  assert.ok(stats.sent * entryBytes < 24 << 20, `sent ${stats.sent} messages into a paused socket`);
  assert.ok(a.unreachable.includes(ID_B), 'drops report the peer unreachable');

  fake.sockets[0]!.resume();
  await waitFor('queue drained', () => a.transport.stats().queued === 0);
  const after = a.transport.stats();
  assert.equal(after.sent + after.dropped, offered);
  await waitFor('everything sent arrives', () => fake.messages().length === after.sent);
  const seqs = fake.messages().map((m) => m.index);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'in order');
  // The newest are dropped: what was queued first arrives without a gap.
  assert.deepEqual(seqs.slice(0, maxQueuedMessages), Array.from({ length: maxQueuedMessages }, (_, i) => i));
});
