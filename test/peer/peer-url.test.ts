// Peer URLs as etcd writes them; anything the transport cannot dial is refused up front.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePeerUrl } from '../../src/main/peer/peer-url.js';

test('http://host:port URLs parse, IPv6 literals without their brackets', () => {
  assert.deepEqual(parsePeerUrl('http://10.0.0.1:2380'), { url: 'http://10.0.0.1:2380', host: '10.0.0.1', port: 2380 });
  assert.deepEqual(parsePeerUrl('http://[::1]:2380'), { url: 'http://[::1]:2380', host: '::1', port: 2380 });
  assert.equal(parsePeerUrl('http://localhost:0').port, 0);
});

test('other schemes, missing ports and junk are refused', () => {
  for (const bad of ['https://a:2380', 'unix://x', 'http://a', 'a:2380', '']) assert.throws(() => parsePeerUrl(bad), /peer URL/);
});
