// One nemesis run: members behind the fault proxy, clients doing register operations, faults
// from the seed until time is up; then every fault healed, the cluster converged, and the
// history checked. The seed fixes which operations and which faults, in which order; the
// wall-clock interleaving still varies from run to run.
import fs from 'node:fs';
import path from 'node:path';
import { SeededRandom } from '../../src/main/faults/random.js';
import { ProxiedCluster } from '../faults/proxied-cluster.js';
import { converge, divergence, lostWrites, revisionOrderViolations } from './checks.js';
import { checkOperations } from './linearizability.js';
import { DEFAULT_FAILPOINTS, FAULT_KINDS, Nemesis, nextFault, type FaultKind } from './nemesis.js';
import { registerModel } from './register-model.js';
import { WatchCheck } from './watch-check.js';
import { Workload } from './workload.js';
import type { FailpointName } from '../../src/main/failpoints.js';

export interface NemesisOptions {
  seed: number;
  seconds: number;
  members: number;
  /** Default: 2 per member. */
  clients?: number;
  /** Default: 4. */
  keys?: number;
  faults?: readonly FaultKind[];
  failpoints?: readonly FailpointName[];
  /** Watchers checked under the same faults (default 2; 0 for none). */
  watchers?: number;
  /** Extra member flags. */
  flags?: string[];
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
  /** Ends the faults early (then heals, converges and checks as usual). */
  signal?: AbortSignal;
  /** A directory to write the history, the faults and every member incarnation's log into, when the run fails. */
  artifacts?: string;
}

export interface NemesisResult {
  seed: number;
  ok: boolean;
  /** What went wrong, one line each (empty when ok). */
  failures: string[];
  stats: { operations: number; ok: number; refused: number; unknown: number; acknowledgedWrites: number; faults: number; checkMs: number; watchEvents: number };
  /** The faults as they happened. */
  events: string[];
  /** The command that runs this seed again. */
  replay: string;
  /** Log tails of the members, when something failed. */
  logs: string;
}

const OP_TIMEOUT_MS = 3000;
/**
 * Small snapshot intervals so that runs also compact logs and send snapshots to members that
 * fell behind.
 */
const MEMBER_FLAGS = ['--snapshot-count=300', '--experimental-snapshot-catchup-entries=50'];

function writeArtifacts(
  dir: string,
  a: { failures: string[]; events: string[]; endpoints: string[]; history: unknown[]; acked: unknown[]; incarnations: { name: string; log: string }[] },
): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'failures.txt'), `${a.failures.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'faults.txt'), `${a.endpoints.join('\n')}\n\n${a.events.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(a.history, (_, v: unknown) => (v === Infinity ? 'unknown' : v)));
  fs.writeFileSync(path.join(dir, 'acked.json'), JSON.stringify(a.acked));
  a.incarnations.forEach((m, i) => fs.writeFileSync(path.join(dir, `${String(i).padStart(2, '0')}-${m.name}.log`), m.log));
}

export function replayCommand(o: NemesisOptions): string {
  const faults = o.faults !== undefined && o.faults.join(',') !== FAULT_KINDS.join(',') ? ` --faults ${o.faults.join(',')}` : '';
  return `node --import tsx test/nemesis/run.ts --seed ${o.seed} --seconds ${o.seconds} --members ${o.members}${faults}`;
}

export async function runNemesis(o: NemesisOptions): Promise<NemesisResult> {
  const progress = o.progress ?? (() => undefined);
  const rnd = new SeededRandom(o.seed);
  const cluster = await ProxiedCluster.start(o.members, { flags: [...MEMBER_FLAGS, ...(o.flags ?? [])], seed: o.seed });
  const failures: string[] = [];
  let logs = '';
  try {
    const keys = Array.from({ length: o.keys ?? 4 }, (_, i) => `nemesis/k${i}`);
    const workload = new Workload({ endpoints: cluster.endpoints, keys, clients: o.clients ?? 2 * o.members, opTimeoutMs: OP_TIMEOUT_MS }, rnd.fork('workload'));
    const nemesis = new Nemesis(cluster, () => workload.now(), progress);
    const watches = new WatchCheck(cluster.endpoints, 'nemesis/', o.watchers ?? 2, rnd.fork('watch'), (t) => nemesis.log(t));
    await watches.start();
    workload.start();
    const faultRnd = rnd.fork('faults');
    const deadline = Date.now() + o.seconds * 1000;
    let faults = 0;
    while (Date.now() < deadline && o.signal?.aborted !== true) {
      const step = nextFault(faultRnd, cluster.names, o.faults ?? FAULT_KINDS, o.failpoints ?? DEFAULT_FAILPOINTS);
      step.durationMs = Math.min(step.durationMs, Math.max(500, deadline - Date.now()));
      await nemesis.run(step);
      faults++;
    }
    nemesis.log('healing everything');
    await nemesis.healAll();
    await workload.stop();
    nemesis.log('converging');
    let revision = 0;
    try {
      revision = await converge(cluster.endpoints, 60000);
    } catch (e) {
      failures.push(`no convergence after healing: ${(e as Error).message}`);
    }
    const checkStarted = performance.now();
    if (revision > 0) {
      for (const [i, url] of cluster.endpoints.entries()) await workload.finalReads(url, 1000 + i);
      failures.push(...(await lostWrites(cluster.endpoints[0]!, workload.acked)).map((l) => `acknowledged write lost: ${l}`));
      failures.push(...revisionOrderViolations(workload.acked));
      failures.push(...(await divergence(cluster.endpoints, revision)));
      failures.push(...(await watches.finish(revision)));
    } else {
      await watches.stop();
    }
    const lin = checkOperations(registerModel, workload.history, { timeoutMs: 120_000 });
    if (lin.ok === false) {
      failures.push(
        `not linearizable (key ${keys[lin.partition] ?? lin.partition}); longest linearizable prefix ends:\n    ${lin.longest.slice(-8).join('\n    ')}\n  then none of these could go next:\n    ${lin.stuck.join('\n    ')}`,
      );
    } else if (lin.ok === 'unknown') failures.push(`linearizability undecided: ${lin.reason}`);
    const checkMs = performance.now() - checkStarted;
    if (failures.length > 0) {
      logs = cluster.members.map((m) => `--- ${m.name} (last incarnation) ---\n${m.log.slice(-4000)}`).join('\n');
      if (o.artifacts !== undefined) {
        writeArtifacts(o.artifacts, {
          failures,
          events: nemesis.events,
          endpoints: cluster.names.map((n) => `${n} ${cluster.member(n).clientUrl}`),
          history: workload.history,
          acked: workload.acked,
          incarnations: cluster.incarnations.map((m) => ({ name: m.name, log: m.log })),
        });
        logs += `\n(history, faults and every incarnation's log in ${o.artifacts})`;
      }
    }
    return {
      seed: o.seed,
      ok: failures.length === 0,
      failures,
      stats: {
        operations: workload.history.length,
        ...workload.stats,
        acknowledgedWrites: workload.acked.length,
        faults,
        checkMs,
        watchEvents: watches.eventCount,
      },
      events: nemesis.events,
      replay: replayCommand(o),
      logs,
    };
  } finally {
    await cluster.destroy();
  }
}
