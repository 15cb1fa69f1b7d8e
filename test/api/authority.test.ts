// Clients that send a URL as :authority (grpc-go dialled with `http://host:port`: etcdctl
// `endpoint status`, `--cluster`, `hashkv`, `defrag`), which nghttp2 refuses: the HPACK decoder
// against RFC 7541 Appendix C, the header-block framing, the server's two HTTP/2 paths against
// etcdctl, grpc-js and node:http2, and hostile bytes on both paths.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isValidAuthority, reduceAuthority } from '../../src/main/api/grpc/authority.js';
import {
  CLIENT_PREFACE,
  EMPTY_SETTINGS_FRAME,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  H2Error,
  H2ErrorCode,
  readFrameHeader,
  writeFrameHeader,
} from '../../src/main/api/grpc/h2-frames.js';
import { encodeHeaderFrames, HeaderBlockAssembler, type HeaderBlock } from '../../src/main/api/grpc/header-block.js';
import { HpackDecoder, type HeaderField } from '../../src/main/api/grpc/hpack-decoder.js';
import { encodeLiteralBlock } from '../../src/main/api/grpc/hpack-literal.js';
import { ClusterService, GrpcServer, KVService, MaintenanceService } from '../../src/main/api/grpc/index.js';
import { CompareResult, CompareTarget, type PutResponse, type RangeResponse, type TxnResponse } from '../../src/main/api/proto/index.js';
import { Errors } from '../../src/main/errors.js';
import { etcdctl } from '../helpers/etcdctl.js';
import { grpc, grpcJsClient, unaryCall } from './grpc-js-client.js';
import { MemoryKV } from './memory-kv.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (fields: readonly { name: string; value: string }[]): [string, string][] => fields.map((f) => [f.name, f.value]);
const isCompressionError = (e: unknown): boolean => e instanceof H2Error && e.code === H2ErrorCode.COMPRESSION_ERROR;

describe('HPACK decoder: RFC 7541 Appendix C', () => {
  const requests: [string, string][][] = [
    [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
    [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
    [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
  ];
  const requestTables: { entries: [string, string][]; size: number }[] = [
    { entries: [[':authority', 'www.example.com']], size: 57 },
    { entries: [['cache-control', 'no-cache'], [':authority', 'www.example.com']], size: 110 },
    { entries: [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']], size: 164 },
  ];
  const date21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
  const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
  const responses: [string, string][][] = [
    [[':status', '302'], ['cache-control', 'private'], ['date', date21], ['location', 'https://www.example.com']],
    [[':status', '307'], ['cache-control', 'private'], ['date', date21], ['location', 'https://www.example.com']],
    [
      [':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'], ['set-cookie', cookie],
    ],
  ];
  // SETTINGS_HEADER_TABLE_SIZE 256: entries are evicted.
  const responseTables: { entries: [string, string][]; size: number }[] = [
    { entries: [['location', 'https://www.example.com'], ['date', date21], ['cache-control', 'private'], [':status', '302']], size: 222 },
    { entries: [[':status', '307'], ['location', 'https://www.example.com'], ['date', date21], ['cache-control', 'private']], size: 222 },
    { entries: [['set-cookie', cookie], ['content-encoding', 'gzip'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT']], size: 215 },
  ];

  function run(tableSize: number, blocks: string[], want: [string, string][][], tables: typeof requestTables): void {
    const decoder = new HpackDecoder(tableSize, 64 * 1024);
    blocks.forEach((block, i) => {
      assert.deepEqual(pairs(decoder.decode(hex(block))), want[i], `block ${i + 1}`);
      assert.deepEqual(pairs(decoder.dynamicTable), tables[i]!.entries, `table after block ${i + 1}`);
      assert.equal(decoder.dynamicTableSize, tables[i]!.size);
    });
  }

  it('C.3: requests without Huffman coding', () => {
    run(4096, ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', '8286 84be 5808 6e6f 2d63 6163 6865', '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'], requests, requestTables);
  });

  it('C.4: requests with Huffman coding', () => {
    run(4096, ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'], requests, requestTables);
  });

  it('C.5: responses without Huffman coding, a 256-byte table and eviction', () => {
    const blocks = [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768
       7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      '4803 3330 37c1 c0bf',
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153
       444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
    ];
    run(256, blocks, responses, responseTables);
  });

  it('C.6: responses with Huffman coding, a 256-byte table and eviction', () => {
    const blocks = [
      '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
      '4883 640e ffc1 c0bf',
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
       3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ];
    run(256, blocks, responses, responseTables);
  });

  it('table size updates: shrinking evicts, only at the start of a block, never above the setting', () => {
    const decoder = new HpackDecoder(4096, 64 * 1024);
    decoder.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    assert.equal(decoder.dynamicTableSize, 57);
    assert.deepEqual(pairs(decoder.decode(hex('20 82'))), [[':method', 'GET']]); // size 0, then an indexed field
    assert.equal(decoder.dynamicTableSize, 0);
    assert.deepEqual(decoder.decode(hex('3fe11f')), []); // back up to 4096
    assert.throws(() => decoder.decode(hex('3fe21f')), isCompressionError); // 4097
    assert.throws(() => decoder.decode(hex('82 20')), isCompressionError);
  });

  it('refuses malformed blocks', () => {
    const bad = {
      'index 0': '80',
      'index past the tables': 'be',
      'truncated integer': '0f ff',
      'integer too large': '0f ff ff ff ff ff 0f',
      'truncated string': '00 05 61',
      'EOS in a Huffman string': '00 01 61 84 ffff ffff',
      'Huffman padding longer than 7 bits': '00 01 61 81 ff',
      'Huffman padding that is not ones': '00 01 61 81 18', // 'a' (00011) then 000
    };
    for (const [what, block] of Object.entries(bad)) {
      assert.throws(() => new HpackDecoder(4096, 64 * 1024).decode(hex(block)), isCompressionError, what);
    }
    assert.deepEqual(pairs(new HpackDecoder(4096, 64 * 1024).decode(hex('00 01 61 81 1f'))), [['a', 'a']]); // 'a' then 111
    // 30 fields of 60 bytes: over a 1 KiB list bound, though the block is 31 bytes.
    const small = new HpackDecoder(4096, 1024);
    small.decode(hex('40 01 61 1b' + Buffer.alloc(27, 'x').toString('hex')));
    assert.throws(() => small.decode(Buffer.alloc(30, 0xbe)), isCompressionError);
  });

  it('literal re-encoding round-trips any bytes and leaves the decoder table empty', () => {
    const fields: HeaderField[] = [
      { name: ':authority', value: '127.0.0.1:2379', neverIndexed: false },
      { name: 'authorization', value: 'secret', neverIndexed: true },
      { name: 'x-long', value: 'v'.repeat(300), neverIndexed: false },
      { name: 'x-bytes', value: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1'), neverIndexed: false },
      { name: 'x-empty', value: '', neverIndexed: false },
    ];
    const decoder = new HpackDecoder(4096, 64 * 1024);
    assert.deepEqual(decoder.decode(encodeLiteralBlock(fields)), fields);
    assert.equal(decoder.dynamicTableSize, 0);
  });
});

describe("HPACK decoder against nghttp2's encoder (node:http2 client)", () => {
  it('decodes Huffman and raw literals of every byte a header value may hold, and dynamic table references', async () => {
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    const high = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
    const first = { 'x-printable': printable, 'x-tab': 'a\tb', 'x-number': '1234567890' };
    const sent = [first, { 'x-high': high, 'x-mixed': `ab${high.slice(0, 3)}cd` }, first];
    const blocks = await captureHeaderBlocks(sent.length, (session) => {
      for (const headers of sent) session.request({ ':method': 'POST', ':path': '/x', ...headers }).on('error', () => {});
    });
    const decoder = new HpackDecoder(4096, 64 * 1024);
    blocks.forEach((block, i) => {
      const got = Object.fromEntries(pairs(decoder.decode(block.fragment)));
      for (const [name, value] of Object.entries(sent[i]!)) assert.equal(got[name], value, `${name} in request ${i + 1}`);
    });
    assert.ok(decoder.dynamicTableSize > 0, 'nghttp2 indexed fields');
    assert.ok(blocks[2]!.fragment.length < blocks[0]!.fragment.length / 4, 'the third block refers to the first one’s table entries');
  });
});

describe('authority values', () => {
  it('accepts what nghttp2 accepts', () => {
    for (const ok of ['127.0.0.1:2379', 'localhost', 'etcd-0.etcd.svc:2379', '[::1]:2379', 'a_b~c']) assert.equal(isValidAuthority(ok), true, ok);
    for (const bad of ['', 'http://127.0.0.1:2379', 'host/path', 'user@host', 'a b', 'h\u00e9']) assert.equal(isValidAuthority(bad), false, bad);
  });

  it('reduces a URL to host:port', () => {
    assert.equal(reduceAuthority('http://127.0.0.1:2379'), '127.0.0.1:2379');
    assert.equal(reduceAuthority('https://user:pw@[::1]:2379/v3/kv?x#y'), '[::1]:2379');
    assert.equal(reduceAuthority('unix+tcp://host'), 'host');
    assert.equal(reduceAuthority('host:1/path'), 'host:1');
  });
});

describe('header block framing', () => {
  it('splits a block over HEADERS and CONTINUATION frames within the frame size, and reads it back', () => {
    const fragment = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i & 0xff));
    const priority = hex('80000003 0f');
    const wire = encodeHeaderFrames(5, true, priority, fragment, 16_384);
    const frames = splitFrames(wire);
    assert.deepEqual(
      frames.map((f) => [f.header.type, f.header.flags, f.header.length, f.header.streamId]),
      [
        [FrameType.HEADERS, Flag.END_STREAM | Flag.PRIORITY, 16_384, 5],
        [FrameType.CONTINUATION, 0, 16_384, 5],
        [FrameType.CONTINUATION, Flag.END_HEADERS, 40_000 + 5 - 2 * 16_384, 5],
      ],
    );
    const assembler = new HeaderBlockAssembler(64 * 1024);
    let block: HeaderBlock | undefined;
    for (const f of frames) block = assembler.add(f.header, f.payload);
    assert.deepEqual(block, { streamId: 5, endStream: true, priority, fragment });
    assert.deepEqual(splitFrames(encodeHeaderFrames(1, false, undefined, Buffer.from('ab'), 16_384)).map((f) => f.header.flags), [Flag.END_HEADERS]);
  });

  it('strips padding and keeps priority fields', () => {
    const payload = Buffer.concat([Buffer.from([3]), hex('00000001 20'), Buffer.from('block'), Buffer.alloc(3)]);
    const header = { length: payload.length, type: FrameType.HEADERS, flags: Flag.PADDED | Flag.PRIORITY | Flag.END_HEADERS, streamId: 1 };
    assert.deepEqual(new HeaderBlockAssembler(1024).add(header, payload), { streamId: 1, endStream: false, priority: hex('00000001 20'), fragment: Buffer.from('block') });
  });

  it('refuses frames out of place, bad padding and blocks over the bound', () => {
    const isProtocolError = (e: unknown) => e instanceof H2Error && e.code === H2ErrorCode.PROTOCOL_ERROR;
    const headers = (flags: number, payload: Buffer, streamId = 1) => ({ header: { length: payload.length, type: FrameType.HEADERS, flags, streamId }, payload });
    const continuation = (flags: number, payload: Buffer, streamId = 1) => ({ header: { length: payload.length, type: FrameType.CONTINUATION, flags, streamId }, payload });
    const feed = (limit: number, ...frames: { header: Parameters<HeaderBlockAssembler['add']>[0]; payload: Buffer }[]) => {
      const assembler = new HeaderBlockAssembler(limit);
      for (const f of frames) assembler.add(f.header, f.payload);
    };
    assert.throws(() => feed(1024, continuation(Flag.END_HEADERS, Buffer.from('x'))), isProtocolError);
    assert.throws(() => feed(1024, headers(0, Buffer.from('x')), continuation(Flag.END_HEADERS, Buffer.from('x'), 3)), isProtocolError);
    assert.throws(() => feed(1024, headers(Flag.END_HEADERS, Buffer.from('x'), 0)), isProtocolError);
    assert.throws(() => feed(1024, headers(Flag.PADDED | Flag.END_HEADERS, Buffer.from([5, 0, 0]))), isProtocolError);
    assert.throws(() => feed(1024, headers(Flag.PRIORITY | Flag.END_HEADERS, Buffer.from([0, 0]))), isProtocolError);
    assert.throws(() => feed(10, headers(0, Buffer.alloc(8)), continuation(0, Buffer.alloc(8))), isProtocolError);
  });
});

describe('GrpcServer: clients that send a URL as :authority', () => {
  const kv = new MemoryKV();
  // Non-gRPC HTTP/2 requests get back what the handler saw, for the node:http2 tests.
  const server = new GrpcServer({
    onHttp: (req, res) => {
      let body = 0;
      req.on('data', (chunk: Buffer) => (body += chunk.length));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ authority: req.headers[':authority'] ?? req.headers.host, big: String(req.headers['x-big'] ?? '').length, body }));
      });
    },
  });
  let port = 0;
  let plain = '';
  let url = '';

  before(async () => {
    server.addService(KVService, kv.handlers);
    server.addService(MaintenanceService, {
      Status: () => ({ header: kv.header(), version: '3.4.23', dbSize: 4096, leader: 1n, raftIndex: 7, raftTerm: 2, raftAppliedIndex: 7, errors: [], dbSizeInUse: 4096, isLearner: false }),
      HashKV: (req) => {
        if (req.revision > 0 && req.revision < 3) throw Errors.compacted;
        return { header: kv.header(), hash: 0x1234abcd, compactRevision: 3 };
      },
      Defragment: () => ({ header: kv.header() }),
    });
    server.addService(ClusterService, {
      MemberList: () => ({
        header: kv.header(),
        members: [{ ID: 0x8e9e05c52164694dn, name: 'default', peerURLs: ['http://127.0.0.1:2380'], clientURLs: [url], isLearner: false }],
      }),
    });
    ({ port } = await server.listen('127.0.0.1', 0));
    plain = `127.0.0.1:${port}`;
    url = `http://${plain}`;
  });
  after(() => server.close());

  /** Runs `fn` and returns how many connections took each path meanwhile. */
  async function paths(fn: () => Promise<void>): Promise<{ grpc: number; h2: number; h2Rewritten: number }> {
    const before = { ...server.connectionCounts };
    await fn();
    const now = server.connectionCounts;
    return { grpc: now.grpc - before.grpc, h2: now.h2 - before.h2, h2Rewritten: now.h2Rewritten - before.h2Rewritten };
  }

  /** etcdctl's output with the URL endpoint written as the plain one, warnings (timestamped) left out. */
  const same = (s: string) => s.replaceAll(url, plain).replace(/^\{"level":"warn".*\n/gm, '');

  it('etcdctl endpoint status, --cluster, hashkv and defrag with http:// endpoints are served by the lean HTTP/2 and print what host:port prints', async () => {
    for (const args of [['endpoint', 'status'], ['endpoint', 'status', '-w', 'json'], ['endpoint', 'hashkv'], ['defrag']]) {
      let viaUrl!: Awaited<ReturnType<typeof etcdctl>>;
      const counts = await paths(async () => {
        viaUrl = await etcdctl(url, args);
      });
      assert.equal(viaUrl.code, 0, viaUrl.stderr);
      assert.deepEqual(counts, { grpc: 1, h2: 0, h2Rewritten: 0 }, args.join(' '));
      const viaPlain = await etcdctl(plain, args);
      assert.equal(same(viaUrl.stdout), viaPlain.stdout, args.join(' '));
    }
    // --cluster dials the client URLs of the member list, whatever the endpoint was.
    const cluster = await etcdctl(plain, ['endpoint', 'status', '--cluster']);
    assert.equal(cluster.code, 0, cluster.stderr);
    assert.equal(cluster.stdout, `${url}, 8e9e05c52164694d, 3.4.23, 4.1 kB, false, false, 2, 7, 7, \n`);
  });

  it('a handler error reaches etcdctl byte for byte with an http:// endpoint', async () => {
    const viaUrl = await etcdctl(url, ['endpoint', 'hashkv', '--rev=1']);
    const viaPlain = await etcdctl(plain, ['endpoint', 'hashkv', '--rev=1']);
    assert.equal(viaUrl.code, 1);
    assert.match(viaUrl.stderr, /^Failed to get the hash of endpoint http:\/\/127\.0\.0\.1:\d+ \(etcdserver: mvcc: required revision has been compacted\)$/m);
    assert.equal(same(viaUrl.stderr), same(viaPlain.stderr));
  });

  it('one etcdctl, 20 http:// endpoints: 20 lean connections', async () => {
    let r!: Awaited<ReturnType<typeof etcdctl>>;
    const counts = await paths(async () => {
      r = await etcdctl(Array(20).fill(url).join(','), ['endpoint', 'status']);
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith(`${url}, 8e9e05c52164694d`)).length, 20);
    assert.deepEqual(counts, { grpc: 20, h2: 0, h2Rewritten: 0 });
  });

  it('etcdctl KV commands with an http:// endpoint: as with host:port', { timeout: 60_000 }, async () => {
    // etcdctl 3.4's KV client resolves the endpoint itself and sends host:port as :authority.
    const run = async (endpoint: string, prefix: string) => {
      const out: string[] = [];
      out.push((await etcdctl(endpoint, ['put', `${prefix}/a`, 'one'])).stdout);
      out.push((await etcdctl(endpoint, ['get', `${prefix}/a`])).stdout);
      const txn = await etcdctl(endpoint, ['txn'], { input: `value("${prefix}/a") = "one"\n\nput ${prefix}/a two\n\nput ${prefix}/a no\n\n` });
      out.push(txn.stdout);
      out.push((await etcdctl(endpoint, ['get', `${prefix}/a`, '--rev=1000000'])).stderr.match(/^Error: .*$/m)![0]);
      for (let batch = 0; batch < 100; batch += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => etcdctl(endpoint, ['put', `${prefix}/k${String(batch + i).padStart(3, '0')}`, `v${batch + i}`])));
      }
      out.push((await etcdctl(endpoint, ['get', '--prefix', `${prefix}/k`, '--print-value-only'])).stdout);
      const big = Buffer.alloc(1024 * 1024, 'abcdefghij').toString();
      out.push((await etcdctl(endpoint, ['put', `${prefix}/big`], { input: big })).stdout);
      const got = await etcdctl(endpoint, ['get', `${prefix}/big`, '--print-value-only']);
      assert.equal(got.stdout, `${big}\n`);
      return out;
    };
    let viaUrl: string[] = [];
    const counts = await paths(async () => {
      viaUrl = await run(url, 'u');
    });
    const viaPlain = await run(plain, 'p');
    assert.deepEqual(
      viaUrl.map((s) => s.replaceAll('u/', 'x/')),
      viaPlain.map((s) => s.replaceAll('p/', 'x/')),
    );
    assert.equal(viaUrl[2], 'SUCCESS\n\nOK\n');
    assert.equal(viaUrl[3], 'Error: etcdserver: mvcc: required revision is a future revision');
    assert.equal(viaUrl[4], Array.from({ length: 100 }, (_, i) => `v${i}\n`).join(''));
    assert.equal(counts.h2Rewritten + counts.h2, 0);
    assert.ok(counts.grpc >= 107, `${counts.grpc} lean connections`);
  });

  it('grpc-js with a URL authority: 100 puts and gets, txn, an error and 1 MiB on one lean connection', { timeout: 30_000 }, async () => {
    const client = grpcJsClient(KVService, plain, { 'grpc.default_authority': url });
    try {
      const counts = await paths(async () => {
        for (let i = 0; i < 100; i++) {
          const put = await unaryCall<PutResponse>(client, 'Put', { key: Buffer.from(`js/${i}`), value: Buffer.from(`value ${i}`) });
          assert.equal(put.header?.revision, kv.revision);
          const got = await unaryCall<RangeResponse>(client, 'Range', { key: Buffer.from(`js/${i}`) });
          assert.equal(got.kvs[0]?.value.toString(), `value ${i}`);
        }
        const txn = await unaryCall<TxnResponse>(client, 'Txn', {
          compare: [{ key: Buffer.from('js/0'), target: CompareTarget.VALUE, result: CompareResult.EQUAL, value: Buffer.from('value 0') }],
          success: [{ requestPut: { key: Buffer.from('js/0'), value: Buffer.from('swapped') } }],
        });
        assert.equal(txn.succeeded, true);
        await assert.rejects(unaryCall(client, 'Range', { key: Buffer.from('js/0'), revision: 1_000_000 }), (e: grpc.ServiceError) => {
          assert.equal(e.code, grpc.status.OUT_OF_RANGE);
          assert.equal(e.details, 'etcdserver: mvcc: required revision is a future revision');
          return true;
        });
        const big = Buffer.alloc(1024 * 1024);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
        await unaryCall(client, 'Put', { key: Buffer.from('js/big'), value: big });
        const got = await unaryCall<RangeResponse>(client, 'Range', { key: Buffer.from('js/big') });
        assert.ok(got.kvs[0]!.value.equals(big));
      });
      assert.deepEqual(counts, { grpc: 1, h2: 0, h2Rewritten: 0 });
    } finally {
      client.close();
    }
  });

  it('node:http2 with padding, priority and a 40 KiB header: re-framed within nghttp2’s frame size', async () => {
    const session = http2.connect(`http://${plain}`, { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX });
    session.on('error', () => {});
    try {
      const counts = await paths(async () => {
        for (const [authority, body] of [
          [url, 100_000],
          [`${url}/some/path`, 0],
        ] as const) {
          const req = session.request({ ':method': 'POST', ':path': '/echo', ':authority': authority, 'x-big': 'b'.repeat(40_000) }, { weight: 200 });
          req.end(Buffer.alloc(body, 1));
          const chunks: Buffer[] = [];
          for await (const chunk of req) chunks.push(chunk as Buffer);
          assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { authority: plain, big: 40_000, body });
        }
      });
      assert.deepEqual(counts, { grpc: 0, h2: 0, h2Rewritten: 1 });
    } finally {
      session.close();
    }
  });

  it('host:port clients go to node:http2 untouched, after the server’s empty SETTINGS', async () => {
    const counts = await paths(async () => {
      const session = http2.connect(`http://${plain}`);
      const req = session.request({ ':method': 'GET', ':path': '/x' });
      req.end();
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { authority: plain, big: 0, body: 0 });
      session.close();
    });
    assert.deepEqual(counts, { grpc: 0, h2: 1, h2Rewritten: 0 });
    // On the wire: the sniffer's SETTINGS, then node:http2's own.
    const socket = net.connect(port, '127.0.0.1');
    socket.write(Buffer.concat([CLIENT_PREFACE, EMPTY_SETTINGS_FRAME]));
    const [first] = (await once(socket, 'data')) as [Buffer];
    assert.deepEqual(first.subarray(0, FRAME_HEADER_BYTES), EMPTY_SETTINGS_FRAME);
    socket.destroy();
  });

  it('a PING before the first request is answered, through the rewriting path', async () => {
    const counts = await paths(async () => {
      const socket = net.connect(port, '127.0.0.1');
      const ping = Buffer.alloc(FRAME_HEADER_BYTES + 8);
      writeFrameHeader(ping, 0, 8, FrameType.PING, 0, 0);
      ping.write('pingpong', FRAME_HEADER_BYTES, 'latin1');
      socket.write(Buffer.concat([CLIENT_PREFACE, EMPTY_SETTINGS_FRAME, ping]));
      let received = Buffer.alloc(0);
      for await (const chunk of socket) {
        received = Buffer.concat([received, chunk as Buffer]);
        const frames = splitFrames(received.subarray(0, received.length - incompleteTail(received)));
        const pong = frames.find((f) => f.header.type === FrameType.PING);
        if (pong !== undefined) {
          assert.equal(pong.header.flags, Flag.ACK);
          assert.equal(pong.payload.toString('latin1'), 'pingpong');
          break;
        }
      }
      socket.destroy();
    });
    assert.deepEqual(counts, { grpc: 0, h2: 0, h2Rewritten: 1 });
  });
});

describe('GrpcServer: hostile HTTP/2 before and after the authority check', () => {
  const server = new GrpcServer({ firstBytesTimeoutMs: 300 });
  const kv = new MemoryKV();
  let port = 0;

  before(async () => {
    server.addService(KVService, kv.handlers);
    ({ port } = await server.listen('127.0.0.1', 0));
  });
  after(() => server.close());

  const settings = () => frameBytes(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
  const ack = () => frameBytes(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0));
  const block = (authority: string, contentType = 'application/grpc') =>
    encodeLiteralBlock(
      [
        [':method', 'POST'],
        [':scheme', 'http'],
        [':path', '/etcdserverpb.KV/Range'],
        [':authority', authority],
        ['content-type', contentType],
      ].map(([name, value]) => ({ name: name!, value: value!, neverIndexed: false })),
    );

  /** Sends `bytes` after the preface; resolves with whether the server closed within `ms`. */
  async function closedBy(bytes: Buffer[], ms = 2000): Promise<boolean> {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('data', () => {});
    const closed = once(socket, 'close').then(() => true);
    socket.write(Buffer.concat([CLIENT_PREFACE, ...bytes]));
    const result = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
    socket.destroy();
    return result;
  }

  it('garbage after the preface', async () => {
    assert.equal(await closedBy([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4))]), true);
    assert.equal(await closedBy([settings(), ack(), Buffer.alloc(64, 0xff)]), true);
  });

  it('a header block that never completes', async () => {
    const start = frameBytes(FrameType.HEADERS, 0, 1, block(`http://127.0.0.1:${port}`));
    assert.equal(await closedBy([settings(), ack(), start]), true, 'silence after HEADERS');
    const more = Array.from({ length: 10 }, () => frameBytes(FrameType.CONTINUATION, 0, 1, Buffer.alloc(16_000, 0x40)));
    assert.equal(await closedBy([settings(), ack(), start, ...more]), true, 'endless CONTINUATION');
  });

  it('an oversized first frame', async () => {
    const huge = Buffer.alloc(9);
    writeFrameHeader(huge, 0, 0xffffff, FrameType.SETTINGS, 0, 0);
    assert.equal(await closedBy([huge]), true);
    const headers = Buffer.alloc(9);
    writeFrameHeader(headers, 0, 20_000, FrameType.HEADERS, Flag.END_HEADERS, 1);
    assert.equal(await closedBy([settings(), ack(), headers, Buffer.alloc(20_000)]), true);
  });

  for (const [path, contentType, counted] of [
    ['the lean HTTP/2', 'application/grpc', 'grpc'],
    ['a rewritten connection', 'application/json', 'h2Rewritten'],
  ] as const) {
    it(`malformed frames and HPACK on ${path}`, async () => {
      const first = frameBytes(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block(`http://127.0.0.1:${port}`, contentType));
      const badHpack = frameBytes(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      const stray = frameBytes(FrameType.CONTINUATION, Flag.END_HEADERS, 3, Buffer.from([0x82]));
      const oversized = Buffer.alloc(9);
      writeFrameHeader(oversized, 0, 20_000, FrameType.HEADERS, Flag.END_HEADERS, 3);
      const before = server.connectionCounts[counted];
      assert.equal(await closedBy([settings(), ack(), first, badHpack]), true, 'bad HPACK');
      assert.equal(await closedBy([settings(), ack(), first, stray]), true, 'stray CONTINUATION');
      assert.equal(await closedBy([settings(), ack(), first, oversized, Buffer.alloc(20_000)]), true, 'oversized HEADERS');
      assert.equal(server.connectionCounts[counted] - before, 3);
    });
  }

  it('a client that does not acknowledge the server’s SETTINGS', async () => {
    assert.equal(await closedBy([settings()]), true);
  });

  it('and the server keeps serving', async () => {
    assert.equal((await etcdctl(`http://127.0.0.1:${port}`, ['put', 'after', 'ok'])).stdout, 'OK\n');
    const client = grpcJsClient(KVService, `127.0.0.1:${port}`, { 'grpc.default_authority': `http://127.0.0.1:${port}` });
    try {
      const got = await unaryCall<RangeResponse>(client, 'Range', { key: Buffer.from('after') });
      assert.equal(got.kvs[0]?.value.toString(), 'ok');
    } finally {
      client.close();
    }
  });
});

function frameBytes(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

function splitFrames(wire: Buffer): { header: ReturnType<typeof readFrameHeader>; payload: Buffer }[] {
  const frames = [];
  for (let pos = 0; pos < wire.length; ) {
    const header = readFrameHeader(wire, pos);
    frames.push({ header, payload: wire.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + header.length) });
    pos += FRAME_HEADER_BYTES + header.length;
  }
  return frames;
}

/** Bytes at the end of `wire` that are not a whole frame yet. */
function incompleteTail(wire: Buffer): number {
  let pos = 0;
  while (wire.length - pos >= FRAME_HEADER_BYTES && wire.length - pos - FRAME_HEADER_BYTES >= readFrameHeader(wire, pos).length) {
    pos += FRAME_HEADER_BYTES + readFrameHeader(wire, pos).length;
  }
  return wire.length - pos;
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<unknown[]> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args)));
}

/**
 * Lets a node:http2 client session send `count` header blocks to a plain TCP server that answers
 * the preface with an empty SETTINGS frame and records the blocks as they arrive.
 */
async function captureHeaderBlocks(count: number, send: (session: http2.ClientHttp2Session) => void): Promise<HeaderBlock[]> {
  const blocks: HeaderBlock[] = [];
  let done!: () => void;
  const complete = new Promise<void>((resolve) => (done = resolve));
  const tcp = net.createServer((socket) => {
    socket.write(EMPTY_SETTINGS_FRAME);
    const assembler = new HeaderBlockAssembler(64 * 1024);
    let seen = Buffer.alloc(0);
    let pos = CLIENT_PREFACE.length;
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      while (seen.length - pos >= FRAME_HEADER_BYTES) {
        const header = readFrameHeader(seen, pos);
        if (seen.length - pos - FRAME_HEADER_BYTES < header.length) break;
        const payload = seen.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + header.length);
        pos += FRAME_HEADER_BYTES + header.length;
        if (header.type !== FrameType.HEADERS && header.type !== FrameType.CONTINUATION) continue;
        const block = assembler.add(header, payload);
        if (block !== undefined && blocks.push(block) === count) done();
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const session = http2.connect(`http://127.0.0.1:${(tcp.address() as net.AddressInfo).port}`);
  session.on('error', () => {});
  send(session);
  await complete;
  session.destroy();
  await new Promise((resolve) => tcp.close(resolve));
  return blocks;
}
