// Durability: a member killed with SIGKILL in the middle of a stream of puts keeps every put it
// acknowledged, after a restart from its data dir.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { server } from '../helpers/processes.js';

test('SIGKILL during a stream of puts loses no acknowledged put', async () => {
  // A low snapshot count also makes the WAL compact itself during the run.
  const member = await server('tsetcd', { flags: ['--snapshot-count=2000'] });
  await member.start();
  try {
    for (let round = 0; round < 3; round++) {
      const client = new Etcd3({ hosts: member.clientUrl });
      const acked = new Map<string, string>();
      let stop = false;
      const writers = Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const key = `r${round}/w${w}/${i}`;
          const value = `v${i}-${'x'.repeat(i % 200)}`;
          try {
            await client.put(key).value(value).exec();
            acked.set(key, value);
          } catch {
            return; // the member died under us
          }
        }
      });
      // Kill once at least 100 puts are acknowledged (however loaded the machine), at a point that moves each round.
      for (const deadline = Date.now() + 30000; acked.size < 100 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100 + round * 400));
      await member.kill9();
      stop = true;
      await Promise.all(writers);
      client.close();
      assert.ok(acked.size > 100, `round ${round}: only ${acked.size} puts acknowledged before the kill`);

      await member.start();
      const check = new Etcd3({ hosts: member.clientUrl });
      const stored = new Map(Object.entries(await check.getAll().prefix(`r${round}/`).strings()));
      check.close();
      const lost = [...acked].filter(([k, v]) => stored.get(k) !== v);
      assert.deepEqual(lost, [], `round ${round}: ${lost.length} of ${acked.size} acknowledged puts lost`);
    }
  } finally {
    await member.destroy();
  }
});
