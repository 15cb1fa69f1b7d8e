// Fuzzing every gRPC message decoder (src/main/api/proto) with random and mutated bytes: a
// decoder either returns a message or throws ProtoDecodeError (nothing else, no hang), and a
// message it returns survives encode → decode unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as pb from '../../src/main/api/proto/index.js';
import { decode, encode, ProtoDecodeError, type MessageCodec } from '../../src/main/api/proto/index.js';
import { fuzzLoop, mutate, onlyThrows, randomBytes } from './fuzz-kit.js';

function isCodec(v: unknown): v is MessageCodec<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as MessageCodec<unknown>).decode === 'function' && typeof (v as MessageCodec<unknown>).encode === 'function' && typeof (v as MessageCodec<unknown>).name === 'string';
}

const codecs: MessageCodec<unknown>[] = [...new Map((Object.values(pb) as unknown[]).filter(isCodec).map((c) => [c.name, c])).values()];
const isDecodeError = (e: unknown) => e instanceof ProtoDecodeError;

test('every codec is fuzzed', () => {
  assert.ok(codecs.length > 60, `only ${codecs.length} codecs found`);
});

test('random and mutated bytes: a message or ProtoDecodeError, and decoded messages re-encode faithfully', async () => {
  // A corpus per codec: what random bytes decoded to, re-encoded (valid encodings to mutate).
  const corpus = new Map<string, Buffer[]>(codecs.map((c) => [c.name, [encode(c, {})].map((b) => Buffer.from(b))]));
  const ran = await fuzzLoop('proto', { seed: 20261, ms: 4000 }, (rnd) => {
    const codec = rnd.pick(codecs);
    const samples = corpus.get(codec.name)!;
    const input = rnd.chance(0.3) ? randomBytes(rnd, 64) : mutate(rnd, rnd.pick(samples), samples);
    let message: unknown;
    const started = performance.now();
    onlyThrows(() => (message = decode(codec, input)), isDecodeError, input);
    assert.ok(performance.now() - started < 200, `${codec.name}: decoding ${input.length} bytes took too long`);
    if (message === undefined) return;
    const again = Buffer.from(encode(codec, message as never));
    assert.deepStrictEqual(decode(codec, again), message, `${codec.name} changed over encode/decode (input ${input.toString('hex')})`);
    if (samples.length < 32) samples.push(again);
  });
  assert.ok(ran > 1000, `only ${ran} iterations`);
});

test('deeply nested input is refused, not a stack overflow', () => {
  // A Txn whose success op is a Txn whose success op is a Txn ... 10,000 deep.
  let inner = Buffer.alloc(0);
  for (let i = 0; i < 10000; i++) {
    const op = Buffer.concat([Buffer.from([0x22]), varint(inner.length), inner]); // RequestOp.request_txn
    inner = Buffer.concat([Buffer.from([0x12]), varint(op.length), op]); // TxnRequest.success
  }
  assert.throws(() => decode(pb.TxnRequestCodec, inner), ProtoDecodeError);
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
