// The shared ring: records come back as written, in order, across wraparound; a reader the writer
// overtook finds out instead of reading overwritten bytes; a reader on another thread sees the same.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { RingReader, RingWriter, createRing, fullSeq } from '../../src/main/watch/ring.js';
import { spawnWorker } from '../../src/main/watch/spawn.js';
import { expectedRecord } from './ring-pattern.js';

function publish(writer: RingWriter, seq: number): void {
  const bytes = expectedRecord(seq);
  const at = writer.reserve(bytes.length);
  writer.data.set(bytes, at);
  assert.equal(writer.publish(seq + 1, 0), seq);
}

describe('ring', () => {
  it('gives back every record in order through many wraparounds', () => {
    const writer = new RingWriter(createRing(16, 2048));
    const reader = new RingReader(writer.buffer);
    for (let seq = 0; seq < 5000; seq++) {
      publish(writer, seq);
      const record = reader.read(seq);
      assert.ok(record, `record ${seq}`);
      assert.deepEqual(record.bytes, expectedRecord(seq));
      assert.equal(record.revision, seq + 1);
      assert.equal(reader.head(seq), seq + 1);
    }
  });

  it('keeps the newest records intact and reports the overwritten ones as lapped', () => {
    const writer = new RingWriter(createRing(64, 4096));
    const reader = new RingReader(writer.buffer);
    for (let seq = 0; seq < 1000; seq++) publish(writer, seq);
    const tail = reader.tail(0);
    assert.ok(tail > 900 && tail < 1000, `tail ${tail}`);
    assert.equal(reader.read(tail - 1), undefined, 'an overwritten record is not handed out');
    assert.equal(reader.revisionAt(tail - 1), undefined);
    for (let seq = tail; seq < 1000; seq++) assert.deepEqual(reader.read(seq)?.bytes, expectedRecord(seq));
    assert.equal(reader.read(1000), undefined, 'a record not yet published is not handed out');
  });

  it('never holds more records than slots', () => {
    const writer = new RingWriter(createRing(8, 1 << 20));
    const reader = new RingReader(writer.buffer);
    for (let seq = 0; seq < 100; seq++) publish(writer, seq);
    assert.equal(reader.tail(0), 100 - 8);
  });

  it('rebuilds full sequence numbers from their low 32 bits across 2^32', () => {
    const near = 2 ** 32 - 5;
    assert.equal(fullSeq((near + 10) | 0, near), near + 10);
    assert.equal(fullSeq((near - 3) | 0, near), near - 3);
    assert.equal(fullSeq(7, 0), 7);
    assert.equal(fullSeq(3 * 2 ** 32 + 2, 3 * 2 ** 32 - 1), 3 * 2 ** 32 + 2);
  });

  it('refuses records larger than a quarter of the ring', () => {
    const writer = new RingWriter(createRing(8, 1024));
    assert.throws(() => writer.reserve(257));
  });

  it('serves a reader on another thread while the writer never waits: nothing torn, nothing out of order', async (t) => {
    const total = 200_000;
    const writer = new RingWriter(createRing(1024, 64 * 1024));
    const ext = path.extname(fileURLToPath(import.meta.url));
    const worker = spawnWorker(new URL(`./ring-reader-worker${ext}`, import.meta.url), { ring: writer.buffer, total });
    const result = new Promise<{ read: number; lapped: number; corrupt: number; outOfOrder: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 300)); // the worker starts reading
    for (let seq = 0; seq < total; seq++) {
      publish(writer, seq);
      if (seq % 64 === 0) writer.notify();
      // Now and then let the reader catch up, now and then not: both paths get exercised.
      if (seq % 20_000 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    writer.notify();
    const r = await result;
    await worker.terminate();
    t.diagnostic(`records read ${r.read}, laps detected ${r.lapped}`);
    assert.equal(r.corrupt, 0);
    assert.equal(r.outOfOrder, 0);
    assert.ok(r.read > 0);
    assert.ok(r.read + r.lapped > 0);
  });
});
