// Seeded simulation runs. `SEED=n` replays one seed exactly (TRACE=1 prints its event
// trace); `SEEDS=n` runs n seeds from SEED_BASE (default 1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Simulation, SimulationFailure, type SimulationStats } from './simulation.js';

const DEFAULT_SEEDS = 600;

function seeds(): number[] {
  if (process.env.SEED !== undefined) return [Number(process.env.SEED)];
  const count = Number(process.env.SEEDS ?? DEFAULT_SEEDS);
  const base = Number(process.env.SEED_BASE ?? 1);
  return Array.from({ length: count }, (_, i) => base + i);
}

test('simulation: safety and liveness under faults, many seeds', () => {
  const trace = process.env.TRACE === '1';
  const failures: string[] = [];
  const all: SimulationStats[] = [];
  const started = performance.now();
  for (const seed of seeds()) {
    try {
      all.push(new Simulation(seed, { trace }).run());
    } catch (e) {
      if (!(e instanceof SimulationFailure)) throw e;
      failures.push(`${e.message}\n  replay: SEED=${seed} TRACE=1 node --import tsx --test test/raft/simulation.test.ts`);
      if (trace || failures.length === 1) console.error(e.trace.join('\n'));
    }
  }
  const ms = Math.round(performance.now() - started);
  const sum = (f: (s: SimulationStats) => number): number => all.reduce((a, s) => a + f(s), 0);
  console.log(
    `simulated ${all.length + failures.length} seeds in ${ms} ms: ${sum((s) => s.events)} events, ` +
      `${sum((s) => s.elections)} elections, ${sum((s) => s.commits)} commits, ${sum((s) => s.writesAcked)} writes and ` +
      `${sum((s) => s.readsAcked)} reads acknowledged, ${sum((s) => s.snapshotsSent)} snapshots sent, ` +
      `${sum((s) => s.crashes)} crashes, ${sum((s) => s.partitions)} partitions, ${sum((s) => s.transfers)} transfers, ` +
      `${sum((s) => s.confChanges)} conf changes; recovery took at most ` +
      `${Math.max(0, ...all.map((s) => s.recoveryTicks))} ticks`,
  );
  if (trace && all.length === 1) console.log(JSON.stringify(all[0]));
  assert.deepEqual(failures, [], failures.join('\n\n'));
});
