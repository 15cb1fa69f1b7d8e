// Without a loadable uWebSockets.js build a member logs one warning and carries on: gRPC and HTTP
// on the client port as always, and --listen-client-http-urls served by node:http (no /ws).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadUws, UWS_PACKAGES } from '../../src/main/api/ws/uws.js';
import { etcdctl } from '../helpers/etcdctl.js';
import { freePort } from '../helpers/ports.js';
import { server, tempDir, type ServerProcess } from '../helpers/processes.js';

const HIDE_UWS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hide-uws.js');

let root: string;
let member: ServerProcess;
let httpPort: number;

before(async () => {
  root = tempDir('uws-missing');
  httpPort = await freePort();
  member = await server('tsetcd', {
    dataDir: path.join(root, 'member'),
    flags: [`--listen-client-http-urls=http://127.0.0.1:${httpPort}`],
    env: { NODE_OPTIONS: `--import ${HIDE_UWS}` },
  });
  await member.start();
});

after(async () => {
  await member?.destroy();
  fs.rmSync(root, { recursive: true, force: true });
});

test('the loader reports why each package did not load', async () => {
  const missing = await loadUws(['tsetcd-no-such-package', 'tsetcd-nor-this-one']);
  assert.equal(missing.ok, false);
  assert.match(!missing.ok ? missing.reasons.join('\n') : '', /^tsetcd-no-such-package: Cannot find package .*\ntsetcd-nor-this-one: Cannot find package /);
  const here = await loadUws();
  if (here.ok) assert.ok(UWS_PACKAGES.includes(here.from));
});

test('one clear warning; gRPC and HTTP still served; the http-only URL without /ws', async () => {
  const warnings = member.log.split('\n').filter((l) => l.includes('uWebSockets.js could not be loaded'));
  assert.equal(warnings.length, 1, member.log);
  const warning = JSON.parse(warnings[0]!) as { level: string; tried: string[] };
  assert.equal(warning.level, 'warn');
  assert.deepEqual(warning.tried.map((t) => t.split(':')[0]), ['uWebSockets.js', 'uWebSockets.js-node22']);

  assert.equal((await etcdctl(member.endpoint, ['put', 'k', 'v'])).stdout, 'OK\n');
  assert.equal((await etcdctl(member.endpoint, ['get', 'k', '--print-value-only'])).stdout, 'v\n');
  assert.equal(await (await fetch(`${member.clientUrl}/health`)).text(), '{"health":"true"}');

  const http = `http://127.0.0.1:${httpPort}`;
  assert.equal(await (await fetch(`${http}/health`)).text(), '{"health":"true"}');
  const range = await fetch(`${http}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('k').toString('base64') }) });
  assert.equal(((await range.json()) as { count: string }).count, '1');
  const ws = await fetch(`${http}/ws`);
  assert.equal(ws.status, 503);
  assert.match(await ws.text(), /needs uWebSockets\.js/);
});
