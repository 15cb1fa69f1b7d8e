// Runs the nemesis for as long as asked, from a seed, and reports:
//
//   node --import tsx test/nemesis/run.ts --seed 42 --seconds 600 --members 5
//        [--faults kill,pause,restart,partition,one-way,latency,loss,failpoint] [--failpoints all]
//        [--clients N] [--keys N] [--watchers N] [--runs N] [--artifacts DIR]
//
// --runs N runs seeds seed, seed+1, ... (each for --seconds). Exits 1 if any run failed, after
// printing its seed, what failed, the faults, member log tails and the command that replays it
// (with --artifacts, also the history and every member incarnation's whole log, in DIR/seed-N).
// Needs the compiled members (npx tsc -p .). Ctrl-C ends the faults early and still checks.
import { parseArgs } from 'node:util';
import { FAILPOINT_NAMES } from '../../src/main/failpoints.js';
import { DEFAULT_FAILPOINTS, FAULT_KINDS, type FaultKind } from './nemesis.js';
import { runNemesis } from './run-nemesis.js';

function fail(message: string): never {
  process.stderr.write(`nemesis: ${message}\n`);
  process.exit(2);
}

function int(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, not ${text}`);
  return n;
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seconds: { type: 'string' },
    members: { type: 'string' },
    faults: { type: 'string' },
    failpoints: { type: 'string' },
    clients: { type: 'string' },
    keys: { type: 'string' },
    watchers: { type: 'string' },
    runs: { type: 'string' },
    artifacts: { type: 'string' },
  },
});
const faults = (values.faults ?? FAULT_KINDS.join(',')).split(',').map((f) => f.trim()) as FaultKind[];
for (const f of faults) if (!FAULT_KINDS.includes(f)) fail(`unknown fault ${f} (known: ${FAULT_KINDS.join(', ')})`);
const members = int('members', values.members, 3);
if (members < 3) fail('--members must be at least 3');
const seed0 = int('seed', values.seed, Math.floor(Math.random() * 1e6));
const abort = new AbortController();
process.on('SIGINT', () => {
  if (abort.signal.aborted) process.exit(130);
  process.stderr.write('\nnemesis: stopping faults; healing and checking (Ctrl-C again to quit at once)\n');
  abort.abort();
});

let failed = 0;
for (let run = 0; run < int('runs', values.runs, 1) && !abort.signal.aborted; run++) {
  const seed = seed0 + run;
  process.stderr.write(`nemesis: seed ${seed}, ${members} members, ${values.seconds ?? 60} s\n`);
  const result = await runNemesis({
    seed,
    seconds: int('seconds', values.seconds, 60),
    members,
    faults,
    failpoints: values.failpoints === 'all' ? FAILPOINT_NAMES : DEFAULT_FAILPOINTS,
    ...(values.clients !== undefined ? { clients: int('clients', values.clients, 0) } : {}),
    ...(values.keys !== undefined ? { keys: int('keys', values.keys, 0) } : {}),
    ...(values.watchers !== undefined ? { watchers: int('watchers', values.watchers, 0) } : {}),
    progress: (line) => process.stderr.write(`  ${line}\n`),
    ...(values.artifacts !== undefined ? { artifacts: `${values.artifacts}/seed-${seed}` } : {}),
    signal: abort.signal,
  });
  const s = result.stats;
  process.stdout.write(
    `seed ${seed}: ${result.ok ? 'OK' : 'FAILED'} — ${s.faults} faults, ${s.operations} operations recorded (${s.ok} ok, ${s.unknown} unknown outcome, ${s.refused} refused), ` +
      `${s.acknowledgedWrites} acknowledged writes, ${s.watchEvents} watch events; checked in ${(s.checkMs / 1000).toFixed(1)} s\n`,
  );
  if (!result.ok) {
    failed++;
    process.stdout.write(`\nFAILED seed ${seed}:\n${result.failures.map((f) => `  - ${f}`).join('\n')}\n\nfaults:\n${result.events.map((e) => `  ${e}`).join('\n')}\n\n${result.logs}\n\nreplay: ${result.replay}\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
