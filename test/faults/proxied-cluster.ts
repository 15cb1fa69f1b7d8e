// A cluster whose peer links all cross a fault proxy: each member listens for peers on its own
// port and advertises its proxy route's port (--initial-advertise-peer-urls and
// --initial-cluster), so every member reaches every other through the proxy. Members are
// test/helpers/processes.ts servers; the proxy runs in this process.
import fs from 'node:fs';
import path from 'node:path';
import type { LinkFaults } from '../../src/main/faults/link-faults.js';
import { FaultProxy } from '../../src/main/faults/proxy.js';
import { freePort } from '../helpers/ports.js';
import { server, tempDir, type ServerKind, type ServerProcess } from '../helpers/processes.js';

export interface ProxiedClusterOptions {
  kind?: ServerKind;
  /** Extra member flags, e.g. ['--snapshot-count=100']. */
  flags?: string[];
  /** Environment per member (e.g. TSETCD_FAILPOINTS for one of them). */
  env?: (name: string) => NodeJS.ProcessEnv;
  /** Seeds the proxy's jitter and loss. */
  seed?: number;
  /** Start the members (default true); otherwise call start() on them. */
  start?: boolean;
  /** Faults on every link from the first byte on (e.g. a delay the members' RTT figures should show). */
  initialFaults?: Partial<LinkFaults>;
}

export class ProxiedCluster {
  /** Members stopped with SIGSTOP, to be continued before they are killed. */
  private readonly paused = new Set<string>();
  /** Every process started for a member, oldest first (their logs tell what happened). */
  readonly incarnations: ServerProcess[] = [];

  private constructor(
    readonly proxy: FaultProxy,
    readonly members: ServerProcess[],
    readonly root: string,
    readonly kind: ServerKind,
  ) {}

  static async start(size: number, options: ProxiedClusterOptions = {}): Promise<ProxiedCluster> {
    const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
    const ports: { client: number; peer: number }[] = [];
    for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
    const token = `proxied-${process.pid}-${Date.now()}`;
    // The proxy's ports come from freePort too: an OS-chosen one could be a member's, closed by
    // freePort and not bound yet.
    const proxyPorts: number[] = [];
    for (let i = 0; i < size; i++) proxyPorts.push(await freePort());
    const proxy = await FaultProxy.start({
      routes: names.map((name, i) => ({ name, listen: { host: '127.0.0.1', port: proxyPorts[i]! }, target: { host: '127.0.0.1', port: ports[i]!.peer } })),
      clusterToken: token,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
    if (options.initialFaults !== undefined) proxy.setFaults({}, options.initialFaults);
    const root = tempDir(`${options.kind ?? 'tsetcd'}-proxied`);
    const initialCluster = names.map((n) => `${n}=${proxy.advertisedUrl(n)}`).join(',');
    const members = await Promise.all(
      names.map((name, i) =>
        server(options.kind ?? 'tsetcd', {
          name,
          dataDir: path.join(root, `${name}.etcd`),
          clientPort: ports[i]!.client,
          peerPort: ports[i]!.peer,
          // Later flags win: the advertised peer URL is the proxy's, the listening one the member's.
          flags: [`--initial-cluster-token=${token}`, ...(options.flags ?? []), `--initial-advertise-peer-urls=${proxy.advertisedUrl(name)}`],
          initialCluster,
          env: options.env?.(name) ?? {},
        }),
      ),
    );
    const cluster = new ProxiedCluster(proxy, members, root, options.kind ?? 'tsetcd');
    cluster.incarnations.push(...members);
    if (options.start !== false) {
      try {
        await Promise.all(members.map((m) => m.start()));
      } catch (e) {
        await cluster.destroy();
        throw e;
      }
    }
    return cluster;
  }

  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  member(name: string): ServerProcess {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Sends a signal to the member's process; false if it is not running. */
  private signal(name: string, signal: NodeJS.Signals): boolean {
    const pid = this.member(name).pid;
    if (pid === undefined) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether the member's current process is running (it may be stopped). */
  isAlive(name: string): boolean {
    return this.member(name).alive;
  }


  /** SIGSTOP: the process keeps its sockets but answers nothing until resume(). */
  pause(name: string): void {
    if (this.signal(name, 'SIGSTOP')) this.paused.add(name);
  }

  resume(name: string): void {
    this.signal(name, 'SIGCONT');
    this.paused.delete(name);
  }

  isPaused(name: string): boolean {
    return this.paused.has(name);
  }

  async kill9(name: string): Promise<void> {
    this.resume(name);
    await this.member(name).kill9();
  }

  /**
   * Starts the member again on its data dir (killing a running incarnation first), with `env`
   * for this incarnation only (e.g. armed failpoints). Resolves once it serves clients; rejects
   * if it does not in time or dies first (the process, if any, is left running).
   */
  async restart(name: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30000): Promise<void> {
    const old = this.member(name);
    if (this.isAlive(name)) await this.kill9(name);
    const next = await server(this.kind, {
      name,
      dataDir: old.dataDir,
      clientPort: old.clientPort,
      peerPort: old.peerPort,
      flags: old.extraFlags,
      initialCluster: old.initialCluster,
      env,
    });
    this.members[this.members.indexOf(old)] = next;
    this.incarnations.push(next);
    await next.start(timeoutMs);
  }

  /** Kills every member (continuing stopped ones first), closes the proxy, removes the data. */
  async destroy(): Promise<void> {
    for (const name of this.names) this.resume(name);
    await Promise.all(this.members.map((m) => m.destroy()));
    await this.proxy.close();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
