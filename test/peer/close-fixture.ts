// Run by close.test.ts in a child process: busy transports (links up, a peer down and being
// redialed, pings, a snapshot in flight) are closed, and the process must then exit by itself.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../helpers/ports.js';
import { appMessage, cluster, ID_A, ID_B, ID_C, tempDir, waitFor } from './harness.js';

const down = await freePort();
const [a, b] = await cluster([ID_A, ID_B], { pingIntervalMs: 20 });
a!.transport.addPeer(ID_C, [`http://127.0.0.1:${down}`]);
a!.transport.send([appMessage(ID_A, ID_B, 0), appMessage(ID_A, ID_C, 0)]);
await waitFor('a message', () => b!.received.length === 1);
await waitFor('an RTT sample', () => a!.transport.rtt(ID_B).length > 0);

const file = path.join(tempDir('out'), 'db');
fs.writeFileSync(file, randomBytes(32 << 20));
const snapshot = a!.transport.sendSnapshot({ ...appMessage(ID_A, ID_B, 0, 0), type: 7, snapshot: { index: 1, term: 1, conf: { voters: [], learners: [] } } }, file);
const outcome = snapshot.then(
  () => 'acknowledged',
  (err: Error) => err.message,
);
await new Promise((resolve) => setTimeout(resolve, 5));
await Promise.all([a!.transport.close(), b!.transport.close()]);
console.log(`closed; snapshot: ${await outcome}`);
