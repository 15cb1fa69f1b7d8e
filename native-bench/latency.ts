// Raft timing on slow links: 3 members of real etcd and of tsetcd, side by side in the same run,
// behind the fault proxy (src/main/faults) at several round-trip times, first with etcd's
// default --heartbeat-interval/--election-timeout (100/1000 ms), then with what `tsetcd tune`
// recommends after measuring that cluster. For each: leader changes over a fixed period (from
// /metrics etcd_server_leader_changes_seen_total, else from Status leader ids sampled every
// 100 ms), and the write throughput and p99 latency of `tsetcd bench put` run meanwhile.
//
//   npx tsc -p . && node --import tsx native-bench/latency.ts [--rtts=0,50,150,300] [--servers=etcd,tsetcd]
//        [--seconds=20] [--jitter=0.1] [--clients=32] [--out=DIR]
//
// The proxy delays every chunk by RTT/2 each way, plus up to --jitter x RTT/2 more (order kept).
// It runs in this process; the load generator runs in a process of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FaultProxy } from '../src/main/faults/proxy.js';
import { runTune } from '../src/main/tune/cli.js';
import { freePort } from '../test/helpers/ports.js';
import { percentileMs, runBenchCli } from './bench-cli.js';
import { onCleanup } from './cleanup.js';
import { ClusterMember, SERVER_KINDS, type ServerKind } from './cluster.js';

const DEFAULT_TIMING = { heartbeatMs: 100, electionMs: 1000 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const progress = (line: string) => process.stderr.write(`${line}\n`);

interface Timing {
  heartbeatMs: number;
  electionMs: number;
}

export interface LatencyRow {
  server: ServerKind;
  rttMs: number;
  timing: 'default' | 'tuned';
  heartbeatMs: number;
  electionMs: number;
  /** Leader changes seen during the measured period (the most any member saw). */
  leaderChanges: number | undefined;
  leaderChangesFrom: 'metrics' | 'status';
  writesPerSecond: number | undefined;
  p99Ms: number | undefined;
  errors: number | undefined;
  /** Why a cell is empty, or what tune measured. */
  note: string;
}

/** Three members of `kind` behind a fresh proxy delaying every link by `delayMs` ± jitter. */
class SlowCluster {
  private constructor(
    readonly proxy: FaultProxy,
    readonly members: ClusterMember[],
    private readonly dir: string,
    private readonly unregister: () => void,
  ) {}

  static async start(kind: ServerKind, timing: Timing, delayMs: number, jitterMs: number): Promise<SlowCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `native-bench-latency-${kind}-`));
    const unregister = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    const names = ['m1', 'm2', 'm3'];
    // Client, peer and proxy port per member, all from freePort (an OS-chosen proxy port could be a member's).
    const ports: number[] = [];
    for (let i = 0; i < 3 * names.length; i++) ports.push(await freePort());
    const proxy = await FaultProxy.start({
      routes: names.map((name, i) => ({ name, listen: { host: '127.0.0.1', port: ports[2 * names.length + i]! }, target: { host: '127.0.0.1', port: ports[2 * i + 1]! } })),
      clusterToken: path.basename(dir),
      seed: 1,
    });
    proxy.setFaults({}, { delayMs, jitterMs });
    const initialCluster = names.map((n) => `${n}=${proxy.advertisedUrl(n)}`).join(',');
    const members = names.map((name, i) => {
      const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
      const flags = [
        `--name=${name}`,
        `--data-dir=${path.join(dir, `${name}.etcd`)}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${ports[2 * i + 1]}`,
        `--initial-advertise-peer-urls=${proxy.advertisedUrl(name)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${path.basename(dir)}`,
        '--initial-cluster-state=new',
        `--heartbeat-interval=${timing.heartbeatMs}`,
        `--election-timeout=${timing.electionMs}`,
        '--snapshot-count=100000',
      ];
      return new ClusterMember(kind, name, clientUrl, path.join(dir, `${name}.log`), flags);
    });
    const cluster = new SlowCluster(proxy, members, dir, unregister);
    for (const m of members) m.spawn();
    return cluster;
  }

  /** Until every member names the same leader and a write through it commits. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const crashed = this.members.find((m) => m.crash !== undefined);
      if (crashed !== undefined) throw new Error(`${crashed.crash}\n${crashed.logTail()}`);
      try {
        const statuses = await Promise.all(this.members.map((m) => m.status(2000)));
        statuses.forEach((s, i) => (this.members[i]!.id = s.memberId));
        const leaders = new Set(statuses.map((s) => s.leaderId));
        const leader = this.members.find((m) => leaders.size === 1 && leaders.has(m.id));
        if (leader !== undefined) {
          await leader.put('/native-bench/ready', 'yes', 10000);
          return;
        }
        last = `leaders seen: ${[...leaders].join(',')}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(200);
    }
    throw new Error(`no stable leader within ${timeoutMs} ms (${last})`);
  }

  get clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill9()));
    await this.proxy.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.unregister();
  }
}

/** etcd_server_leader_changes_seen_total of each member, or undefined if one does not export it. */
async function leaderChangeCounters(urls: readonly string[]): Promise<number[] | undefined> {
  const values = await Promise.all(
    urls.map(async (url) => {
      try {
        const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) });
        if (!res.ok) return undefined;
        const line = (await res.text()).split('\n').find((l) => l.startsWith('etcd_server_leader_changes_seen_total'));
        return line === undefined ? undefined : Number(line.trim().split(/\s+/).pop());
      } catch {
        return undefined;
      }
    }),
  );
  return values.every((v): v is number => v !== undefined && Number.isFinite(v)) ? values : undefined;
}

/** Samples each member's leader every 100 ms until `until`; returns the most changes any member saw. */
async function sampledLeaderChanges(members: readonly ClusterMember[], until: number): Promise<number> {
  const last = members.map(() => '');
  const changes = members.map(() => 0);
  while (Date.now() < until) {
    await Promise.all(
      members.map(async (m, i) => {
        try {
          const leader = (await m.status(500)).leaderId;
          if (leader === '0') return;
          if (last[i] !== '' && leader !== last[i]) changes[i]!++;
          last[i] = leader;
        } catch {
          // no answer (no leader, or busy): not a change by itself
        }
      }),
    );
    await sleep(100);
  }
  return Math.max(...changes);
}

interface BenchFigures {
  writesPerSecond: number;
  p99Ms: number;
  errors: number;
}

/** `tsetcd bench put` for `seconds` against every member. */
async function benchPut(urls: readonly string[], seconds: number, clients: number): Promise<BenchFigures> {
  const { report } = await runBenchCli(['put', `--endpoints=${urls.join(',')}`, `--conns=${urls.length}`, `--clients=${clients}`, `--duration=${seconds}s`, '--val-size=256', '--key-space-size=100000']);
  return { writesPerSecond: report.requestsPerSec, p99Ms: percentileMs(report, 99), errors: report.errors };
}

/** What `tsetcd tune --endpoints` recommends for a running cluster. */
/** What `tsetcd tune --endpoints` recommends for a running cluster; no timing when it measured nothing. */
async function tune(urls: readonly string[]): Promise<{ timing?: Timing; note: string }> {
  let out = '';
  await runTune(['--endpoints', urls.join(','), '--samples', '10', '--interval-ms', '50', '--json'], { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => undefined } });
  const report = JSON.parse(out) as { source: string; links: { samples: number; p99Seconds: number }[]; recommendation: Timing };
  const measured = report.links.filter((l) => l.samples > 0);
  if (measured.length === 0) return { note: `tune (${report.source}): no round trips measured` };
  const p99 = Math.max(...measured.map((l) => l.p99Seconds));
  return { timing: report.recommendation, note: `tune (${report.source}): slowest p99 ${(p99 * 1000).toFixed(0)} ms` };
}

async function measure(kind: ServerKind, rttMs: number, timingName: LatencyRow['timing'], timing: Timing, o: Options): Promise<{ row: LatencyRow; tuned?: Timing }> {
  const row: LatencyRow = {
    server: kind,
    rttMs,
    timing: timingName,
    ...timing,
    leaderChanges: undefined,
    leaderChangesFrom: 'status',
    writesPerSecond: undefined,
    p99Ms: undefined,
    errors: undefined,
    note: '',
  };
  const delay = rttMs / 2;
  const cluster = await SlowCluster.start(kind, timing, delay, delay * o.jitter);
  let tuned: Timing | undefined;
  try {
    await cluster.ready(90_000);
    if (timingName === 'default') {
      const t = await tune(cluster.clientUrls);
      tuned = t.timing;
      row.note = t.note;
    }
    const before = await leaderChangeCounters(cluster.clientUrls);
    const until = Date.now() + o.seconds * 1000;
    const [figures, sampled] = await Promise.all([benchPut(cluster.clientUrls, o.seconds, o.clients), before === undefined ? sampledLeaderChanges(cluster.members, until) : Promise.resolve(0)]);
    const after = before === undefined ? undefined : await leaderChangeCounters(cluster.clientUrls);
    if (before !== undefined && after !== undefined) {
      row.leaderChanges = Math.max(...after.map((a, i) => a - before[i]!));
      row.leaderChangesFrom = 'metrics';
    } else row.leaderChanges = sampled;
    Object.assign(row, figures);
  } catch (e) {
    row.note = `${row.note} failed: ${(e as Error).message.split('\n')[0]}`.trim();
  } finally {
    await cluster.stop();
  }
  return { row, ...(tuned !== undefined ? { tuned } : {}) };
}

interface Options {
  rtts: number[];
  servers: ServerKind[];
  seconds: number;
  jitter: number;
  clients: number;
  outDir: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rtts: { type: 'string' },
      servers: { type: 'string' },
      seconds: { type: 'string' },
      jitter: { type: 'string' },
      clients: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const numbers = (text: string) => text.split(',').map((x) => Number(x.trim()));
  const servers = (values.servers ?? SERVER_KINDS.join(',')).split(',') as ServerKind[];
  if (!servers.every((s) => SERVER_KINDS.includes(s))) throw new Error(`--servers: ${SERVER_KINDS.join(', ')}`);
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {
    rtts: numbers(values.rtts ?? '0,50,150,300'),
    servers,
    seconds: Number(values.seconds ?? 20),
    jitter: Number(values.jitter ?? 0.1),
    clients: Number(values.clients ?? 32),
    outDir: values.out ?? path.join(here.replace(`${path.sep}dist${path.sep}`, path.sep), 'results'),
  };
}

export function renderLatencyTable(rows: readonly LatencyRow[]): string {
  const fmt = (v: number | undefined, digits: number) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
  const lines = [
    '| RTT | timing | server | heartbeat / election (ms) | leader changes | writes/s | p99 (ms) | errors | note |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.rttMs} ms | ${r.timing} | ${r.server} | ${r.heartbeatMs} / ${r.electionMs} | ${fmt(r.leaderChanges, 0)}${r.leaderChangesFrom === 'status' ? '*' : ''} | ${fmt(r.writesPerSecond, 0)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.errors, 0)} | ${r.note} |`,
    );
  }
  lines.push('', '`*`: counted from Status leader ids sampled every 100 ms (the member exports no etcd_server_leader_changes_seen_total).');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions();
  const rows: LatencyRow[] = [];
  const startedAt = new Date().toISOString();
  for (const [r, rtt] of o.rtts.entries()) {
    // Alternate who goes first, as run.ts does, so slow drifts of the machine hit both alike.
    const order = r % 2 === 1 ? [...o.servers].reverse() : o.servers;
    const recommended = new Map<ServerKind, Timing>();
    for (const kind of order) {
      progress(`[${rtt} ms RTT] ${kind}, default timing ...`);
      const first = await measure(kind, rtt, 'default', DEFAULT_TIMING, o);
      rows.push(first.row);
      progress(`  ${JSON.stringify(first.row)}`);
      if (first.tuned !== undefined) recommended.set(kind, first.tuned);
    }
    for (const kind of order) {
      // Where tune measured nothing on a cluster (real etcd records its round trips every 30 s, and
      // the proxy passes no probe to etcd's peer port), the other cluster's figures describe the
      // same links through the same proxy.
      const own = recommended.get(kind);
      const tuned = own ?? [...recommended.values()][0] ?? DEFAULT_TIMING;
      progress(`[${rtt} ms RTT] ${kind}, tuned timing ${tuned.heartbeatMs}/${tuned.electionMs} ...`);
      const second = await measure(kind, rtt, 'tuned', tuned, o);
      if (own === undefined && recommended.size > 0) second.row.note = `${second.row.note} timing tune recommended for the other cluster on these links`.trim();
      rows.push(second.row);
      progress(`  ${JSON.stringify(second.row)}`);
    }
  }
  rows.sort((a, b) => a.rttMs - b.rttMs || a.timing.localeCompare(b.timing) || a.server.localeCompare(b.server));
  const command = ['node --import tsx native-bench/latency.ts', ...process.argv.slice(2)].join(' ');
  const table = renderLatencyTable(rows);
  process.stdout.write(`${table}\n`);
  fs.mkdirSync(o.outDir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const md = path.join(o.outDir, `latency-${stamp}.md`);
  fs.writeFileSync(md, `# Raft timing on slow links\n\n${startedAt}, ${os.cpus().length} CPUs, Node ${process.version}\n\n\`${command}\`\n\n${table}\n`);
  fs.writeFileSync(path.join(o.outDir, `latency-${stamp}.json`), JSON.stringify({ startedAt, command, options: o, rows }, null, 2));
  progress(`wrote ${md}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`latency: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
