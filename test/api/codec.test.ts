// The hand-written codecs against protobufjs as an independent oracle: random messages go both
// ways, then malformed input must fail with ProtoDecodeError (never hang, never another error).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import * as pb from '../../src/main/api/proto/index.js';
import { canonical, loadProtoRoot, randomMessage, Rng, toProtobufjs, toTsetcd, type Abstract } from './proto-oracle.js';

const SEED = Number(process.env.CODEC_SEED ?? Date.now() % 2 ** 31);
const ROUNDS = Number(process.env.CODEC_ROUNDS ?? 60);
const root = loadProtoRoot();

type AnyCodec = pb.MessageCodec<unknown>;

function isCodec(v: unknown): v is AnyCodec {
  return typeof v === 'object' && v !== null && 'name' in v && 'encode' in v && 'decode' in v;
}

const codecs: AnyCodec[] = Object.entries(pb)
  .filter(([name, v]) => name.endsWith('Codec') && isCodec(v))
  .map(([, v]) => v as AnyCodec);

/** Encodes with a tsetcd codec from a loosely typed object (the generator's output). */
function encodeLoose(c: AnyCodec, m: Record<string, unknown>): Buffer {
  return Buffer.from(pb.encode(c, m as pb.Init<unknown>));
}

function decodeWithOracle(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), { longs: String, oneofs: true });
}

/** A few unknown fields of every wire type, group included, to be skipped by decoders. */
function unknownFields(rng: Rng): Buffer {
  const w = new pb.Writer();
  w.begin();
  const field = 1000 + rng.int(1000);
  w.tag(field, 0);
  w.varint64(-1);
  w.tag(field + 1, 1);
  w.ensure(8);
  w.pos += 8;
  w.tag(field + 2, 2);
  w.varint32(3);
  w.ensure(3);
  w.pos += 3;
  w.tag(field + 3, 5);
  w.ensure(4);
  w.pos += 4;
  w.tag(field + 4, 3); // group with a nested group inside
  w.tag(field + 5, 0);
  w.varint32(1);
  w.tag(field + 6, 3);
  w.tag(field + 6, 4);
  w.tag(field + 4, 4);
  return Buffer.from(w.finish());
}

describe(`codecs vs protobufjs (CODEC_SEED=${SEED})`, () => {
  it('covers every message type of the services', () => {
    assert.ok(codecs.length > 90, `only ${codecs.length} codecs`);
    for (const c of codecs) assert.ok(root.lookupType(c.name), c.name);
    const names = new Set(codecs.map((c) => c.name));
    for (const svc of ['etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Lease', 'etcdserverpb.Cluster',
      'etcdserverpb.Maintenance', 'etcdserverpb.Auth', 'v3lockpb.Lock', 'v3electionpb.Election']) {
      for (const method of root.lookupService(svc).methodsArray) {
        for (const t of [method.resolvedRequestType!, method.resolvedResponseType!]) {
          assert.ok(names.has(t.fullName.slice(1)), `no codec for ${t.fullName} (${svc}.${method.name})`);
        }
      }
    }
  });

  for (const c of codecs) {
    it(`${c.name}: random messages round-trip both ways`, () => {
      const type = root.lookupType(c.name);
      const rng = new Rng(SEED ^ hash(c.name));
      for (let i = 0; i < ROUNDS; i++) {
        const m: Abstract = randomMessage(rng, type);
        const expected = canonical(type, m, 'other');
        const context = `${c.name} round ${i} (CODEC_SEED=${SEED})`;

        // protobufjs encodes, tsetcd decodes (with unknown fields around, which must be skipped).
        const oracleBytes = Buffer.from(type.encode(type.fromObject(toProtobufjs(type, m))).finish());
        const noise = unknownFields(rng);
        const framed = rng.chance(0.5) ? Buffer.concat([noise, oracleBytes]) : Buffer.concat([oracleBytes, noise]);
        const ours = pb.decode(c, framed) as Record<string, unknown>;
        assert.deepEqual(canonical(type, ours, 'tsetcd'), expected, context);

        // tsetcd encodes, protobufjs decodes; and tsetcd reads its own output.
        const ourBytes = encodeLoose(c, toTsetcd(type, m, rng));
        assert.deepEqual(canonical(type, decodeWithOracle(type, ourBytes), 'other'), expected, context);
        assert.deepEqual(canonical(type, pb.decode(c, ourBytes) as Record<string, unknown>, 'tsetcd'), expected, context);
      }
    });
  }
});

describe('codec details', () => {
  it('64-bit IDs keep every bit, including values >= 2^63', () => {
    const header = { clusterId: 2n ** 64n - 1n, memberId: 2n ** 63n, revision: 2 ** 53 - 1, raftTerm: 7 };
    const bytes = pb.encode(pb.ResponseHeaderCodec, header);
    assert.deepEqual(pb.decode(pb.ResponseHeaderCodec, Buffer.from(bytes)), header);
    const oracle = decodeWithOracle(root.lookupType('etcdserverpb.ResponseHeader'), bytes);
    assert.equal(oracle.clusterId, '18446744073709551615');
    assert.equal(oracle.memberId, '9223372036854775808');

    const lease = -(2n ** 63n);
    const put = pb.decode(pb.PutRequestCodec, Buffer.from(pb.encode(pb.PutRequestCodec, { key: Buffer.from('k'), lease })));
    assert.equal(put.lease, lease);
  });

  it('negative int64 numbers survive (10-byte varints)', () => {
    const m = pb.decode(pb.WatchResponseCodec, Buffer.from(pb.encode(pb.WatchResponseCodec, { watchId: -1, compactRevision: -(2 ** 40) })));
    assert.equal(m.watchId, -1);
    assert.equal(m.compactRevision, -(2 ** 40));
  });

  it('repeated enums: packed and unpacked both decode', () => {
    const packed = Buffer.from([0x2a, 0x02, 0x00, 0x01]); // field 5, length 2, [0, 1]
    const unpacked = Buffer.from([0x28, 0x01, 0x28, 0x00, 0x28, 0x01]); // field 5 varint x3
    assert.deepEqual(pb.decode(pb.WatchCreateRequestCodec, packed).filters, [0, 1]);
    assert.deepEqual(pb.decode(pb.WatchCreateRequestCodec, Buffer.concat([unpacked, packed])).filters, [1, 0, 1, 0, 1]);
  });

  it('oneof members are written even when they hold the default value', () => {
    const bytes = pb.encode(pb.CompareCodec, { key: Buffer.from('k'), version: 0 });
    const c = pb.decode(pb.CompareCodec, Buffer.from(bytes));
    assert.equal(c.targetUnion, 'version');
    if (c.targetUnion === 'version') assert.equal(c.version, 0);
    const op = pb.decode(pb.RequestOpCodec, Buffer.from(pb.encode(pb.RequestOpCodec, { requestPut: {} })));
    assert.equal(op.request, 'requestPut');
  });

  it('proto3 defaults are not written', () => {
    assert.equal(pb.encode(pb.PutRequestCodec, { key: Buffer.alloc(0), lease: 0n, prevKv: false }).length, 0);
    assert.equal(pb.encode(pb.RangeResponseCodec, { kvs: [], more: false, count: 0 }).length, 0);
  });

  it('bytes decode as zero-copy views of the input', () => {
    const input = Buffer.from(pb.encode(pb.PutRequestCodec, { key: Buffer.from('key'), value: Buffer.from('value') }));
    const m = pb.decode(pb.PutRequestCodec, input);
    assert.equal(m.key.buffer, input.buffer);
    input[input.indexOf('value')] = 0x56;
    assert.equal(m.value.toString(), 'Value');
  });

  it('nested lengths of 1, 2 and 3 bytes; messages larger than a slab', () => {
    for (const size of [0, 100, 127, 128, 200, 16383, 16384, 70000, 300000]) {
      const kv = { key: Buffer.alloc(size, 1), value: Buffer.alloc(3, 2), modRevision: 9 };
      const bytes = pb.encode(pb.RangeResponseCodec, { kvs: [kv, kv], count: 2 });
      const oracle = decodeWithOracle(root.lookupType('etcdserverpb.RangeResponse'), bytes);
      assert.equal((oracle.kvs as unknown[]).length, 2);
      const m = pb.decode(pb.RangeResponseCodec, Buffer.from(bytes));
      assert.equal(m.kvs[1]!.key.length, size);
      assert.equal(m.kvs[1]!.modRevision, 9);
    }
  });

  it('views handed out earlier are never overwritten', () => {
    const views: [Buffer, number][] = [];
    for (let i = 0; i < 5000; i++) views.push([pb.encode(pb.LeaseKeepAliveResponseCodec, { ID: BigInt(i), TTL: i }), i]);
    for (const [view, i] of views) {
      const m = pb.decode(pb.LeaseKeepAliveResponseCodec, Buffer.from(view));
      assert.equal(m.ID, BigInt(i));
      assert.equal(m.TTL, i);
    }
  });
});

describe(`malformed input (CODEC_SEED=${SEED})`, () => {
  const rejects = (c: AnyCodec, bytes: number[] | Buffer, why: string) => {
    assert.throws(() => pb.decode(c, Buffer.from(bytes)), pb.ProtoDecodeError, why);
  };

  it('rejects the classic cases with ProtoDecodeError', () => {
    rejects(pb.PutRequestCodec, [0x18, 0x80], 'truncated varint');
    rejects(pb.PutRequestCodec, [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'varint over 10 bytes');
    rejects(pb.PutRequestCodec, [0x0a, 0x05, 0x01], 'length beyond the buffer');
    rejects(pb.PutRequestCodec, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], 'huge length');
    rejects(pb.PutRequestCodec, [0x08, 0x01], 'known field with the wrong wire type');
    rejects(pb.PutRequestCodec, [0x18 | 0x02, 0x00], 'lease as length-delimited');
    rejects(pb.PutRequestCodec, [0x0e], 'wire type 6');
    rejects(pb.PutRequestCodec, [0x0f], 'wire type 7');
    rejects(pb.PutRequestCodec, [0x00, 0x00], 'field number 0');
    rejects(pb.PutRequestCodec, [0xfc, 0x01], 'end group without start');
    rejects(pb.PutRequestCodec, [0xfb, 0x01, 0x08, 0x01], 'unterminated group');
    rejects(pb.PutRequestCodec, [0xf9, 0x01, 0x00], 'fixed64 truncated');
    rejects(pb.PutRequestCodec, [0xfd, 0x01, 0x00, 0x00], 'fixed32 truncated');
    rejects(pb.RangeResponseCodec, [0x12, 0x02, 0x0a, 0x05], 'nested field overruns its message');
    rejects(pb.WatchCreateRequestCodec, [0x2a, 0x02, 0x80, 0x80], 'packed varint overruns');
  });

  it('rejects hostile nesting without exhausting the stack', () => {
    // TxnRequest.success -> RequestOp.request_txn -> TxnRequest ... 100000 levels deep.
    let inner = Buffer.alloc(0);
    const lengthPrefixed = (tag: number, body: Buffer) => {
      const w = new pb.Writer();
      w.begin();
      w.tag(tag, 2);
      w.varint32(body.length);
      return Buffer.concat([Buffer.from(w.finish()), body]);
    };
    for (let i = 0; i < 2000; i++) inner = lengthPrefixed(2, lengthPrefixed(4, inner));
    rejects(pb.TxnRequestCodec, inner, 'deep nesting');
  });

  it('random and mutated input: decodes or throws ProtoDecodeError, nothing else', () => {
    const rng = new Rng(SEED);
    const started = Date.now();
    let decoded = 0;
    let rejected = 0;
    for (const c of codecs) {
      const type = root.lookupType(c.name);
      for (let i = 0; i < 150; i++) {
        const valid = encodeLoose(c, toTsetcd(type, randomMessage(rng, type), rng));
        const input = mutate(rng, valid);
        try {
          pb.decode(c, input);
          decoded++;
        } catch (e) {
          if (!(e instanceof pb.ProtoDecodeError)) {
            assert.fail(`${c.name}: ${String(e)} for input ${input.toString('hex')} (CODEC_SEED=${SEED})`);
          }
          rejected++;
        }
      }
    }
    assert.ok(decoded > 0 && rejected > 0, `decoded ${decoded}, rejected ${rejected}`);
    assert.ok(Date.now() - started < 20_000, 'fuzzing took suspiciously long');
  });
});

function mutate(rng: Rng, valid: Buffer): Buffer {
  const b = Buffer.from(valid);
  switch (rng.int(6)) {
    case 0:
      return rng.bytes(rng.int(64));
    case 1:
      return b.subarray(0, rng.int(b.length + 1));
    case 2:
      if (b.length > 0) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    case 3:
      if (b.length > 0) b[rng.int(b.length)] = rng.pick([0x00, 0x7f, 0x80, 0xff, 0x0e, 0x0f, 0x0b, 0x0c]);
      return b;
    case 4: {
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
    }
    default:
      for (let i = 0; i < 4 && b.length > 0; i++) b[rng.int(b.length)] = rng.int(256);
      return b;
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
