// WatchResponse bytes built from shared parts decode as the project's codec (itself checked against
// protobufjs) decodes etcd's; fragments are split exactly as etcd's sendFragments splits them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode, type Init } from '../../src/main/api/proto/codec.js';
import { WatchResponseCodec, type WatchResponse } from '../../src/main/api/proto/watch.js';
import { KeyValueCodec } from '../../src/main/api/proto/mvcc.js';
import { HeaderCache, OutputArena, eventField, forEachResponse, fragmentEnds } from '../../src/main/watch/response.js';

const kv = (key: string, value: string, mod: number) => Buffer.from(encode(KeyValueCodec, { key: Buffer.from(key), value: Buffer.from(value), createRevision: 1, modRevision: mod, version: 1 }));

function responses(arena: OutputArena): { stream: number; response: WatchResponse }[] {
  const out: { stream: number; response: WatchResponse }[] = [];
  forEachResponse(arena.take(), (stream, bytes) => out.push({ stream, response: decode(WatchResponseCodec, bytes) }));
  return out;
}

describe('watch responses', () => {
  it('encodes events, progress, cancel and compaction responses as the codec reads them', () => {
    const headers = new HeaderCache(0xfedcba9876543210n, 42n);
    const arena = new OutputArena(16); // tiny: it must grow
    const put = eventField(0, kv('a', 'x', 7), undefined);
    const del = eventField(1, Buffer.from(encode(KeyValueCodec, { key: Buffer.from('b'), modRevision: 7 })), kv('b', 'old', 3));
    arena.events(3, headers.get(7, 2), 5, [put, del], 0, 2, false);
    arena.control(4, headers.get(9, 2), -1, false);
    arena.control(4, headers.get(9, 2), 0, true);
    arena.control(5, headers.get(0, 2), 12, true, 6);
    arena.events(6, headers.get(2 ** 40, 3), 2 ** 40, [put], 0, 1, true);
    const got = responses(arena);
    const header = (revision: number, raftTerm: number) => ({ clusterId: 0xfedcba9876543210n, memberId: 42n, revision, raftTerm });
    const base: WatchResponse = { header: undefined, watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [] };
    assert.deepEqual(got, [
      {
        stream: 3,
        response: {
          ...base,
          header: header(7, 2),
          watchId: 5,
          events: [
            { type: 0, kv: decode(KeyValueCodec, kv('a', 'x', 7)), prevKv: undefined },
            { type: 1, kv: { key: Buffer.from('b'), createRevision: 0, modRevision: 7, version: 0, value: Buffer.alloc(0), lease: 0n }, prevKv: decode(KeyValueCodec, kv('b', 'old', 3)) },
          ],
        },
      },
      { stream: 4, response: { ...base, header: header(9, 2), watchId: -1 } },
      { stream: 4, response: { ...base, header: header(9, 2), canceled: true } },
      { stream: 5, response: { ...base, header: header(0, 2), watchId: 12, canceled: true, compactRevision: 6 } },
      { stream: 6, response: { ...base, header: header(2 ** 40, 3), watchId: 2 ** 40, fragment: true, events: [{ type: 0, kv: decode(KeyValueCodec, kv('a', 'x', 7)), prevKv: undefined }] } },
    ]);
  });

  it('splits fragments exactly as etcd does (sizes as gogo computes them)', () => {
    // etcd's sendFragments, run on real encoded sizes.
    function etcd(wr: Init<WatchResponse>, max: number): number[] {
      const size = (m: Init<WatchResponse>) => encode(WatchResponseCodec, m).length;
      const events = wr.events!;
      if (size(wr) < max || events.length < 2) return [events.length];
      const ends: number[] = [];
      let idx = 0;
      for (;;) {
        const cur: NonNullable<Init<WatchResponse>['events']>[number][] = [];
        for (const ev of events.slice(idx)) {
          cur.push(ev);
          if (cur.length > 1 && size({ ...wr, fragment: true, events: cur }) >= max) {
            cur.pop();
            break;
          }
          idx++;
        }
        ends.push(idx);
        if (idx === events.length) return ends;
      }
    }
    const headers = new HeaderCache(1n, 2n);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + (trial % 13);
      const events = Array.from({ length: n }, (_, i) => ({ type: 0, kv: decode(KeyValueCodec, kv(`k${i}`, 'v'.repeat((trial * 37 + i * 101) % 700), 9)) }));
      const fields = events.map((e) => eventField(0, Buffer.from(encode(KeyValueCodec, e.kv)), undefined));
      const header = headers.get(9, 1);
      const watchId = trial % 3;
      const base = header.length + (watchId !== 0 ? 2 : 0);
      const max = 200 + ((trial * 131) % 3000);
      const wr = { header: { clusterId: 1n, memberId: 2n, revision: 9, raftTerm: 1 }, watchId, events };
      assert.deepEqual(fragmentEnds(base, fields.map((f) => f.length), max), etcd(wr, max), `trial ${trial}`);
    }
  });
});
