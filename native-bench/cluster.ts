// Starts an N-member cluster of real etcd or tsetcd on loopback for the benchmark: the same etcd
// flags for both kinds, data dirs under one temp dir, logs in files next to them. Knows which member
// leads, can kill -9 and restart members, and accounts the servers' CPU seconds and peak RSS
// (across restarts). Everything it starts is killed and removed by stop(), or by the exit cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { freePort } from '../test/helpers/ports.js';
import { onCleanup } from './cleanup.js';
import { directClient } from './etcd-client.js';
import { cpuSeconds, peakRssBytes } from './proc-stats.js';

export type ServerKind = 'etcd' | 'tsetcd';
export const SERVER_KINDS: readonly ServerKind[] = ['etcd', 'tsetcd'];

/** The repository root, from native-bench (tsx) or dist/native-bench (compiled). */
const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const TSETCD_BIN = path.join(REPO_ROOT, 'bin', 'tsetcd');
const ETCD_BIN = '/usr/bin/etcd';

export interface ClusterOptions {
  kind: ServerKind;
  size: number;
  heartbeatIntervalMs?: number;
  electionTimeoutMs?: number;
  snapshotCount?: number;
  /** How long to wait for a leader and a first committed write. */
  startTimeoutMs?: number;
  /**
   * tsetcd only: also listen on a port of its own for HTTP-only client traffic (the WebSocket API at
   * /ws), with --listen-client-http-urls. Real etcd 3.4 has no such flag and no WebSocket API.
   */
  httpClientUrls?: boolean;
}

/** One member's view, from the Status RPC. IDs are decimal strings (uint64). */
export interface MemberStatus {
  memberId: string;
  /** "0" when the member knows no leader. */
  leaderId: string;
  raftIndex: number;
  raftAppliedIndex: number;
  revision: number;
}

export interface ResourceUsage {
  /** User + system CPU seconds of all server processes, including killed incarnations. */
  cpuSeconds: number;
  /** The largest peak RSS (VmHWM) of any one server process. */
  peakRssBytes: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ClusterMember {
  /** Set once the member has answered a Status call. */
  id = '';
  /** Why the process ended when nobody asked it to; undefined while running or after kill9(). */
  crash: string | undefined;
  private child: ChildProcess | undefined;
  /** The process kill9() is ending, so its exit is not taken for a crash. */
  private killing: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private unregister: () => void = () => {};
  private client: Etcd3 | undefined;
  private cpuOfEndedRuns = 0;
  private peakRss = 0;

  constructor(
    readonly kind: ServerKind,
    readonly name: string,
    readonly clientUrl: string,
    readonly logPath: string,
    private readonly flags: readonly string[],
    /** tsetcd's --listen-client-http-urls (the WebSocket API), when the cluster was started with one. */
    readonly httpClientUrl?: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const [cmd, args] = this.kind === 'etcd' ? [ETCD_BIN, this.flags] : [process.execPath, [TSETCD_BIN, ...this.flags]];
    const log = fs.openSync(this.logPath, 'a');
    const child = spawn(cmd, [...args], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    this.crash = undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.killing !== child) this.crash = `${this.name} exited (code ${code}, signal ${signal})`;
        resolve();
      });
      child.once('error', (e) => {
        this.crash = `${this.name} could not be started: ${e.message}`;
        resolve();
      });
    });
    this.unregister = onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    this.client = directClient(this.clientUrl);
  }

  /** SIGKILL, after banking the process's CPU time and peak RSS. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.sampleUsage(true);
    this.killing = child;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.exited;
    this.unregister();
    this.client?.close();
    this.client = undefined;
    this.child = undefined;
  }

  usage(): ResourceUsage {
    const current = this.sampleUsage(false);
    return { cpuSeconds: this.cpuOfEndedRuns + current, peakRssBytes: this.peakRss };
  }

  async status(timeoutMs = 1000): Promise<MemberStatus> {
    if (this.client === undefined) throw new Error(`${this.name} is not running`);
    const s = await this.client.maintenance.status({ deadline: Date.now() + timeoutMs });
    return {
      memberId: s.header.member_id,
      leaderId: s.leader,
      raftIndex: Number(s.raftIndex),
      raftAppliedIndex: Number(s.raftAppliedIndex),
      revision: Number(s.header.revision),
    };
  }

  /** A one-off write through this member, acknowledged or thrown. */
  async put(key: string, value: string, timeoutMs = 2000): Promise<void> {
    if (this.client === undefined) throw new Error(`${this.name} is not running`);
    await this.client.put(key).value(value).options({ deadline: Date.now() + timeoutMs });
  }

  /** The end of the member's log, for error reports. */
  logTail(maxBytes = 1500): string {
    try {
      const text = fs.readFileSync(this.logPath, 'utf8');
      return text.slice(-maxBytes);
    } catch {
      return '';
    }
  }

  /** CPU seconds of the current process; updates the peak RSS. With `bank`, moves the CPU to the ended total. */
  private sampleUsage(bank: boolean): number {
    const pid = this.pid;
    if (pid === undefined) return 0;
    try {
      const cpu = cpuSeconds(pid);
      this.peakRss = Math.max(this.peakRss, peakRssBytes(pid));
      if (bank) this.cpuOfEndedRuns += cpu;
      return bank ? 0 : cpu;
    } catch {
      return 0; // exited between the check and the read
    }
  }
}

export class Cluster {
  private constructor(
    readonly kind: ServerKind,
    readonly members: readonly ClusterMember[],
    private readonly baseDir: string,
    private readonly unregisterDir: () => void,
  ) {}

  /** Starts every member and resolves once they agree on a leader and a write has committed. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const { kind, size } = options;
    const withHttp = options.httpClientUrls === true;
    if (withHttp && kind !== 'tsetcd') throw new Error(`${kind} has no --listen-client-http-urls (no WebSocket API)`);
    const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), `native-bench-${kind}-`));
    const unregisterDir = onCleanup(() => fs.rmSync(baseDir, { recursive: true, force: true }));
    // Per member: client, peer and (with httpClientUrls) HTTP-only client port.
    const perMember = withHttp ? 3 : 2;
    const ports = await distinctFreePorts(perMember * size);
    const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
    const peerUrls = names.map((_, i) => `http://127.0.0.1:${ports[perMember * i + 1]}`);
    const initialCluster = names.map((n, i) => `${n}=${peerUrls[i]}`).join(',');
    const members = names.map((name, i) => {
      const clientUrl = `http://127.0.0.1:${ports[perMember * i]}`;
      const httpUrl = withHttp ? `http://127.0.0.1:${ports[perMember * i + 2]}` : undefined;
      const dataDir = path.join(baseDir, `${name}.etcd`);
      const flags = [
        `--name=${name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrls[i]}`,
        `--initial-advertise-peer-urls=${peerUrls[i]}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${path.basename(baseDir)}`,
        '--initial-cluster-state=new',
        `--heartbeat-interval=${options.heartbeatIntervalMs ?? 100}`,
        `--election-timeout=${options.electionTimeoutMs ?? 1000}`,
        `--snapshot-count=${options.snapshotCount ?? 100000}`,
        ...(httpUrl !== undefined ? [`--listen-client-http-urls=${httpUrl}`] : []),
      ];
      return new ClusterMember(kind, name, clientUrl, path.join(baseDir, `${name}.log`), flags, httpUrl);
    });
    const cluster = new Cluster(kind, members, baseDir, unregisterDir);
    try {
      for (const m of members) m.spawn();
      await cluster.waitForLeaderAndWrite(options.startTimeoutMs ?? 30000);
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  get clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Every member's HTTP-only client URL (tsetcd's WebSocket API); throws if the cluster has none. */
  get httpClientUrls(): string[] {
    return this.members.map((m) => {
      if (m.httpClientUrl === undefined) throw new Error(`${this.kind} cluster was started without httpClientUrls`);
      return m.httpClientUrl;
    });
  }

  /** The member a majority of the running members names as leader. */
  async leader(timeoutMs = 10000): Promise<ClusterMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.majorityLeader();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no leader agreed by a majority within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async kill9(member: ClusterMember): Promise<void> {
    await member.kill9();
  }

  /** Starts a killed member again on its data dir and waits until it has caught up with the leader. */
  async restart(member: ClusterMember, timeoutMs = 30000): Promise<void> {
    member.spawn();
    const deadline = Date.now() + timeoutMs;
    let target: number | undefined;
    for (;;) {
      this.throwIfExited();
      try {
        const leader = await this.majorityLeader();
        if (leader !== undefined && leader !== member) {
          target ??= (await leader.status()).raftIndex;
          const s = await member.status();
          if (s.leaderId === leader.id && s.raftAppliedIndex >= target) return;
        }
      } catch {
        // not serving yet
      }
      if (Date.now() > deadline) throw new Error(`${member.name} did not catch up within ${timeoutMs} ms:\n${member.logTail()}`);
      await sleep(100);
    }
  }

  usage(): ResourceUsage {
    const all = this.members.map((m) => m.usage());
    return {
      cpuSeconds: all.reduce((sum, u) => sum + u.cpuSeconds, 0),
      peakRssBytes: Math.max(...all.map((u) => u.peakRssBytes)),
    };
  }

  /** Kills every member and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill9()));
    fs.rmSync(this.baseDir, { recursive: true, force: true });
    this.unregisterDir();
  }

  private async majorityLeader(): Promise<ClusterMember | undefined> {
    const running = this.members.filter((m) => m.running);
    const statuses = await Promise.allSettled(running.map((m) => m.status(500)));
    const votes = new Map<string, number>();
    for (const s of statuses) {
      if (s.status === 'fulfilled' && s.value.leaderId !== '0') votes.set(s.value.leaderId, (votes.get(s.value.leaderId) ?? 0) + 1);
    }
    for (const [id, count] of votes) {
      const member = this.members.find((m) => m.id === id);
      if (member?.running === true && count > this.members.length / 2) return member;
    }
    return undefined;
  }

  private async waitForLeaderAndWrite(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no member answered Status';
    for (;;) {
      this.throwIfExited();
      try {
        const statuses = await Promise.all(this.members.map((m) => m.status(1000)));
        statuses.forEach((s, i) => (this.members[i]!.id = s.memberId));
        const leaderIds = new Set(statuses.map((s) => s.leaderId));
        const leader = this.members.find((m) => leaderIds.size === 1 && leaderIds.has(m.id));
        if (leader === undefined) {
          lastError = `members disagree or know no leader: ${statuses.map((s) => s.leaderId).join(', ')}`;
        } else {
          await leader.put('/native-bench/ready', 'yes');
          return;
        }
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.kind} cluster of ${this.members.length} not ready within ${timeoutMs} ms (${lastError})\n${this.logTails()}`);
      }
      await sleep(100);
    }
  }

  /** Fails fast when a member died on its own instead of waiting out a timeout. */
  private throwIfExited(): void {
    const crashed = this.members.find((m) => m.crash !== undefined);
    if (crashed !== undefined) throw new Error(`${this.kind} ${crashed.crash}\n${crashed.logTail()}`);
  }

  private logTails(): string {
    return this.members.map((m) => `--- ${m.name} log tail ---\n${m.logTail()}`).join('\n');
  }
}

/** `count` different free loopback ports. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
