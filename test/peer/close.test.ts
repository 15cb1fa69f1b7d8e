// close() leaves nothing running: a process whose only work was two busy transports exits on
// its own once they are closed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
// close-fixture.ts under tsx, close-fixture.js when compiled to dist/.
const fixture = path.join(path.dirname(here), `close-fixture${path.extname(here)}`);

test('after close() the process exits by itself', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  t.diagnostic(out.trim());
  assert.equal(signal, null, 'the process had to be killed: something kept running after close()');
  assert.equal(code, 0);
  assert.match(out, /^closed;/m);
});
