// What Raft entries carry: every write request survives encode → decode, puts in their own layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeWriteRequest, encodeInternalRequest, requestOrigin, type WriteRequest } from '../../src/main/server/internal-request.js';

const roundTrip = (request: WriteRequest) => {
  const data = encodeInternalRequest({ origin: 0xfedcba9876543210n, id: 1795458834566 * 1024 + 3, request });
  assert.deepEqual(requestOrigin(data), { origin: 0xfedcba9876543210n, id: 1795458834566 * 1024 + 3 });
  return { data, decoded: decodeWriteRequest(data) };
};

test('a put as the gRPC API hands it over comes back equal', () => {
  const put = { key: Buffer.from('foo'), value: Buffer.alloc(1024, 7), lease: 0x7fffffffffffffffn, prevKv: true, ignoreValue: false, ignoreLease: true };
  const { decoded } = roundTrip({ op: 'put', put });
  assert.deepEqual(decoded, { op: 'put', put });
});

test('a put without optional fields, an empty key or value, or the largest uint64 lease', () => {
  for (const put of [
    { key: Buffer.from('k'), value: Buffer.from('v') },
    { key: Buffer.alloc(0), value: Buffer.alloc(0), lease: 0n },
    { key: Buffer.from('k'), value: Buffer.from('v'), lease: 2n ** 64n - 1n, ignoreValue: true },
  ]) {
    const { decoded } = roundTrip({ op: 'put', put });
    assert.equal(decoded.op, 'put');
    if (decoded.op !== 'put') return;
    assert.deepEqual(decoded.put.key, put.key);
    assert.deepEqual(decoded.put.value, put.value);
    assert.equal(decoded.put.lease, put.lease);
    assert.equal(decoded.put.prevKv, false);
    assert.equal(decoded.put.ignoreValue, put.ignoreValue === true);
    assert.equal(decoded.put.ignoreLease, false);
  }
});

test('other requests (and a put with a lease outside uint64) travel as msgpack', () => {
  const requests: WriteRequest[] = [
    { op: 'deleteRange', deleteRange: { key: Buffer.from('a'), rangeEnd: Buffer.from('b'), prevKv: true } },
    { op: 'compact', revision: 42 },
    { op: 'leaseGrant', id: 7n, ttl: 60 },
    { op: 'put', put: { key: Buffer.from('k'), value: Buffer.from('v'), lease: -1n } },
  ];
  for (const request of requests) assert.deepEqual(roundTrip(request).decoded, request);
});
