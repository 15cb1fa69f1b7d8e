// The gRPC layer alone under etcd's own write load test: `etcdctl check perf --load=l` against
// no-op KV servers, tsetcd's transport and @grpc/grpc-js side by side, one server process at a time
// (plus h2-floor, the cheapest possible node:http2 responder, as the ceiling).
//
//   node --import tsx native-bench/grpc-noop.ts [--servers=tsetcd,grpc-js,h2-floor] [--runs=3] [--window=15] [--warmup=3] [--load=l] [--full]
//
// etcdctl shares the machine's cores with the server, so writes/s also depends on how much CPU the
// server leaves to the client; the server's CPU time per call (user + sys) is reported as well.
// Each run starts a fresh server process and etcdctl. Without --full, the Puts the server handled
// are counted over --window seconds after --warmup seconds, then etcdctl is stopped (check perf
// itself always runs 60 s). With --full, etcdctl runs to the end and its own verdict is reported.
// BENCH_PROFILE_DIR=<dir> writes a CPU profile of each server over the counting window.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? 'true'];
  }),
);
const servers = (args.servers ?? 'tsetcd,grpc-js').split(',');
const runs = Number(args.runs ?? 3);
const windowS = Number(args.window ?? 15);
const warmupS = Number(args.warmup ?? 3);
const load = args.load ?? 'l';
const full = args.full === 'true';
const here = path.dirname(fileURLToPath(import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startServer(kind: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(path.join(here, 'grpc-noop-server.ts'), [kind], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

/** User and system CPU seconds a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): { user: number; sys: number } {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = 100; // USER_HZ
  return { user: Number(fields[11]) / ticks, sys: Number(fields[12]) / ticks };
}

function putCount(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve((m as { puts: number }).puts));
    child.send('count');
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.send('exit');
  });
}

async function oneRun(kind: string): Promise<{ writesPerSec: number; verdict: string }> {
  const { child: server, port } = await startServer(kind);
  const ctl = spawn('/usr/bin/etcdctl', [`--endpoints=127.0.0.1:${port}`, 'check', 'perf', `--load=${load}`], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  ctl.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  ctl.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const ctlExited = new Promise<void>((resolve) => ctl.once('exit', () => resolve()));
  try {
    if (full) {
      await ctlExited;
      const m = /Throughput is (\d+) writes\/s|Throughput too low: (\d+) writes\/s/.exec(output);
      const verdict = output.split('\n').filter((l) => /PASS|FAIL|Slowest|Stddev/.test(l)).join(' | ');
      return { writesPerSec: Number(m?.[1] ?? m?.[2] ?? NaN), verdict };
    }
    await sleep(warmupS * 1000);
    const profileDir = process.env.BENCH_PROFILE_DIR;
    if (profileDir !== undefined) server.send('profile-start');
    const before = await putCount(server);
    const cpu0 = cpuSeconds(server.pid!);
    const t0 = performance.now();
    await sleep(windowS * 1000);
    const after = await putCount(server);
    const cpu1 = cpuSeconds(server.pid!);
    if (profileDir !== undefined) {
      const file = path.join(profileDir, `grpc-noop-${kind}-${Date.now()}.cpuprofile`);
      await new Promise((resolve) => {
        server.once('message', resolve);
        server.send(`profile-stop:${file}`);
      });
      console.log(`profile: ${file}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const puts = after - before;
    const perCall = (s: number) => ((s * 1e6) / puts).toFixed(0);
    return {
      writesPerSec: Math.round(puts / seconds),
      verdict: `${puts} Puts in ${seconds.toFixed(1)} s; server CPU per call ${perCall(cpu1.user - cpu0.user)} µs user + ${perCall(cpu1.sys - cpu0.sys)} µs sys`,
    };
  } finally {
    ctl.kill('SIGKILL');
    await ctlExited;
    await stop(server);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map<string, number[]>(servers.map((s) => [s, []]));
// Interleave servers so that drift on the machine affects both alike.
for (let i = 0; i < runs; i++) {
  for (const kind of servers) {
    const r = await oneRun(kind);
    results.get(kind)!.push(r.writesPerSec);
    console.log(`run ${i + 1} ${kind.padEnd(8)} ${String(r.writesPerSec).padStart(6)} writes/s  (${r.verdict})`);
  }
}
for (const [kind, xs] of results) console.log(`median ${kind.padEnd(8)} ${median(xs)} writes/s over ${xs.length} run(s): ${xs.join(', ')}`);
