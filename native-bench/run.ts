// The side-by-side benchmark: every scenario on real etcd and on tsetcd with the same settings, one
// after the other in the same run, the order alternating between repetitions. A scenario that fails
// on one server is reported as failed in its cell and the run goes on. See native-bench/README.md.
//
//   node --import tsx native-bench/run.ts [--quick] [--only=check-perf,bench-put,...] [--members=1,3]
//        [--runs=3] [--load=l] [--load-seconds=N] [--failover-rounds=3] [--bench-seconds=30]
//        [--watchers=10000] [--watch-puts=2000] [--watch-seconds=5] [--servers=etcd,tsetcd] [--out=DIR]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHECK_PERF_LOADS, type CheckPerfLoad } from './check-perf.js';
import { Cluster, SERVER_KINDS, type ServerKind } from './cluster.js';
import { DEFAULT_FAILOVER } from './failover.js';
import { DEFAULT_WATCH_FANOUT } from './watch-fanout.js';
import { renderTable, writeResults, type BenchRun, type Sample, type ScenarioResult } from './report.js';
import {
  benchPutScenario,
  benchRangeScenario,
  failoverScenario,
  SCENARIO_KINDS,
  watchFanoutScenario,
  writeLoadScenario,
  wsPutScenario,
  type Scenario,
  type ScenarioKind,
  type ScenarioSettings,
} from './scenarios.js';

const USAGE = `usage: node --import tsx native-bench/run.ts [options]
  --quick                one repetition, own 15 s write loop instead of check perf, one failover round,
                         5 s bench runs, 200 fan-out puts and 2 s of fan-out latency
  --only=LIST            scenarios to run (default: all): ${SCENARIO_KINDS.join(',')}
  --members=LIST         cluster sizes (default 1,3); every scenario runs on each, except failover
                         (sizes >= 3 only) and watch-fanout (always 1 member)
  --runs=N               repetitions per scenario and server (default 3; --quick: 1)
  --load=s|m|l|xl        check perf load (default l)
  --load-seconds=N       run our own etcd3 write loop of the --load shape for N s instead of check perf (60 s)
  --failover-rounds=N    leader kills per failover repetition (default 3; --quick: 1)
  --bench-seconds=N      duration of each bench-put/bench-rate/bench-range/ws-put run (default 30; --quick: 5)
  --warmup-seconds=N     puts at 2,000/s before check perf, and in-run warm-up of bench-put/bench-rate/ws-put,
                         on every server alike (default 10; --quick: 3)
  --watchers=N           watch-fanout watchers (default 10000)
  --watch-puts=N         watch-fanout throughput phase puts (default 2000; --quick: 200)
  --watch-seconds=N      watch-fanout latency phase at 20 puts/s (default 5; --quick: 2)
  --servers=LIST         etcd,tsetcd (default both)
  --out=DIR              results directory (default native-bench/results)
`;

interface RunOptions {
  scenarios: Scenario[];
  runs: number;
  servers: ServerKind[];
  outDir: string;
  settings: ScenarioSettings;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) fail(`--${name} must be a positive integer, not ${text}`);
  return n;
}

function list<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (text === undefined) return [...fallback];
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) if (!allowed.includes(item as T)) fail(`--${name}: unknown ${item} (expected ${allowed.join(', ')})`);
  return items as T[];
}

function parseOptions(argv: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      members: { type: 'string' },
      runs: { type: 'string' },
      load: { type: 'string' },
      'load-seconds': { type: 'string' },
      'failover-rounds': { type: 'string' },
      'bench-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      watchers: { type: 'string' },
      'watch-puts': { type: 'string' },
      'watch-seconds': { type: 'string' },
      servers: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  const only: ScenarioKind[] = list('only', values.only, SCENARIO_KINDS, SCENARIO_KINDS);
  const members = (values.members ?? '1,3').split(',').map((m) => positiveInt('members', m, 1));
  const load = (values.load ?? 'l') as CheckPerfLoad;
  if (!CHECK_PERF_LOADS.includes(load)) fail(`--load must be one of ${CHECK_PERF_LOADS.join(', ')}`);
  const settings: ScenarioSettings = {
    load,
    loadSeconds: values['load-seconds'] !== undefined ? positiveInt('load-seconds', values['load-seconds'], 0) : quick ? 15 : undefined,
    failover: { ...DEFAULT_FAILOVER, rounds: positiveInt('failover-rounds', values['failover-rounds'], quick ? 1 : DEFAULT_FAILOVER.rounds) },
    benchSeconds: positiveInt('bench-seconds', values['bench-seconds'], quick ? 5 : 30),
    warmupSeconds: positiveInt('warmup-seconds', values['warmup-seconds'], quick ? 3 : 10),
    watch: {
      ...DEFAULT_WATCH_FANOUT,
      watchers: positiveInt('watchers', values.watchers, DEFAULT_WATCH_FANOUT.watchers),
      puts: positiveInt('watch-puts', values['watch-puts'], quick ? 200 : DEFAULT_WATCH_FANOUT.puts),
      latencySeconds: positiveInt('watch-seconds', values['watch-seconds'], quick ? 2 : DEFAULT_WATCH_FANOUT.latencySeconds),
    },
  };
  const scenarios: Scenario[] = [];
  if (only.includes('check-perf')) for (const n of members) scenarios.push(writeLoadScenario(n, settings));
  if (only.includes('bench-put')) for (const n of members) scenarios.push(benchPutScenario('bench-put', n, settings));
  if (only.includes('bench-rate')) for (const n of members) scenarios.push(benchPutScenario('bench-rate', n, settings));
  if (only.includes('bench-range')) for (const n of members) scenarios.push(benchRangeScenario(n, settings));
  if (only.includes('ws-put')) for (const n of members) scenarios.push(wsPutScenario(n, settings));
  if (only.includes('watch-fanout')) scenarios.push(watchFanoutScenario(settings));
  if (only.includes('failover')) for (const n of members.filter((m) => m >= 3)) scenarios.push(failoverScenario(n, settings));
  if (scenarios.length === 0) fail('nothing to run: failover needs --members with a size of at least 3');
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {
    scenarios,
    runs: positiveInt('runs', values.runs, quick ? 1 : 3),
    servers: list('servers', values.servers, SERVER_KINDS, SERVER_KINDS),
    // Compiled runs (dist/native-bench) write next to the sources all the same.
    outDir: values.out ?? path.join(here.replace(`${path.sep}dist${path.sep}`, path.sep), 'results'),
    settings,
  };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One server's cluster for one repetition: start, measure, stop. Failures become the sample's error. */
async function runOnce(scenario: Scenario, server: ServerKind): Promise<Pick<Sample, 'measurement' | 'error'>> {
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start({ ...scenario.cluster, kind: server, size: scenario.members });
    return { measurement: await scenario.measure(cluster) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  } finally {
    await cluster?.stop();
  }
}

function summary(sample: Sample, scenario: Scenario): string {
  const m = sample.measurement;
  if (m === undefined) return `failed: ${sample.error?.split('\n')[0] ?? ''}`;
  return scenario.metrics.map((metric) => `${metric.label} ${(m.values[metric.key] ?? []).map((v) => v.toFixed(metric.digits)).join(', ')}`).join('; ');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = os.loadavg();
  const results: ScenarioResult[] = [];
  for (const scenario of options.scenarios) {
    const servers = options.servers.filter((s) => scenario.servers?.includes(s) ?? true);
    const result: ScenarioResult = {
      kind: scenario.kind,
      title: scenario.title,
      members: scenario.members,
      metrics: scenario.metrics,
      ...(scenario.servers !== undefined ? { servers: scenario.servers } : {}),
      samples: [],
    };
    results.push(result);
    for (let repetition = 1; repetition <= options.runs; repetition++) {
      // Alternate who goes first, so slow drifts of a shared machine hit both servers alike.
      const order = repetition % 2 === 1 ? servers : [...servers].reverse();
      for (const [i, server] of order.entries()) {
        progress(`[${scenario.title}] repetition ${repetition}/${options.runs}: ${server} ...`);
        const sample: Sample = { server, repetition, position: i + 1, ...(await runOnce(scenario, server)) };
        result.samples.push(sample);
        progress(`  ${server}: ${summary(sample, scenario)}`);
        await sleep(1000); // let the disk and the CPU settle between clusters
      }
    }
  }
  const run: BenchRun = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: ['node --import tsx native-bench/run.ts', ...process.argv.slice(2)].join(' '),
    settings: { runs: options.runs, servers: options.servers, ...options.settings },
    host: { cpus: os.cpus().length, node: process.version, loadAverageAtStart },
    scenarios: results,
  };
  process.stdout.write(`${renderTable(results)}\n`);
  for (const file of writeResults(options.outDir, run)) progress(`wrote ${file}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`native-bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
