// The bounded nemesis for CI: 3 and 5 members behind the fault proxy, faults drawn from fixed
// seeds, register clients and watchers; the history must be linearizable, no acknowledged write
// lost, the members identical, the watches complete. NEMESIS_SEED and NEMESIS_SECONDS override
// the defaults; longer runs: test/nemesis/run.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaultKind } from './nemesis.js';
import { runNemesis, type NemesisResult } from './run-nemesis.js';

const SECONDS = Number(process.env.NEMESIS_SECONDS ?? 25);
const NETWORK_AND_PAUSES: FaultKind[] = ['pause', 'partition', 'one-way', 'latency', 'loss'];
const RESTARTS: FaultKind[] = ['kill', 'restart', 'failpoint'];

function explain(r: NemesisResult): string {
  return `seed ${r.seed} failed:\n${r.failures.join('\n')}\n\nfaults:\n${r.events.join('\n')}\n\n${r.logs}\n\nreplay: ${r.replay}`;
}

for (const { members, seed, faults } of [
  { members: 3, seed: 7, faults: NETWORK_AND_PAUSES },
  { members: 5, seed: 11, faults: NETWORK_AND_PAUSES },
  { members: 3, seed: 13, faults: RESTARTS },
]) {
  test(`nemesis: ${members} members, ${SECONDS} s of ${faults.join('/')}`, { timeout: (SECONDS + 180) * 1000 }, async () => {
    const result = await runNemesis({ seed: Number(process.env.NEMESIS_SEED ?? seed), seconds: SECONDS, members, faults });
    assert.ok(result.ok, explain(result));
    assert.ok(result.stats.faults > 0 && result.stats.acknowledgedWrites > 100, JSON.stringify(result.stats));
  });
}
