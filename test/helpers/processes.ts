// The one place tests start and stop servers: bin/tsetcd members and real etcd members, as
// real processes on loopback, each in its own temporary data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, from test/helpers (tsx) or dist/test/helpers (compiled). */
export const REPO_ROOT = (() => {
  let dir = here;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const TSETCD_BIN = path.join(REPO_ROOT, 'bin', 'tsetcd');
export const ETCD_BIN = '/usr/bin/etcd';

export type ServerKind = 'tsetcd' | 'etcd';

export interface ServerOptions {
  name?: string;
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  /** Extra flags, e.g. ['--snapshot-count=100']. */
  flags?: string[];
  /** --initial-cluster (default: this member alone). */
  initialCluster?: string;
  env?: NodeJS.ProcessEnv;
}

export class ServerProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly kind: ServerKind,
    readonly name: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly extraFlags: string[],
    readonly extraEnv: NodeJS.ProcessEnv,
    public initialCluster: string,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get log(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the current process exists (running, or stopped with SIGSTOP). */
  get alive(): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }


  flags(): string[] {
    return [
      `--name=${this.name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${this.clientUrl}`,
      `--advertise-client-urls=${this.clientUrl}`,
      `--listen-peer-urls=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      `--initial-cluster=${this.initialCluster}`,
      ...this.extraFlags,
    ];
  }

  /** Starts the process and resolves once it serves clients. */
  async start(timeoutMs = 20000): Promise<void> {
    const cmd = this.kind === 'tsetcd' ? process.execPath : ETCD_BIN;
    const args = this.kind === 'tsetcd' ? [TSETCD_BIN, ...this.flags()] : this.flags();
    const child = spawn(cmd, args, {
      env: { ...process.env, ...this.extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const from = this.output.length;
    const onData = (d: Buffer) => {
      this.output += d.toString();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.kind} ${this.name} did not become ready in ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const check = () => {
        if (this.output.includes('ready to serve client requests', from)) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${this.kind} ${this.name} exited with ${code} before becoming ready:\n${this.output}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        child.off('exit', onExit);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.on('exit', onExit);
      check();
    });
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const code = await exited;
    this.child = undefined;
    return code;
  }

  kill9(): Promise<number | null> {
    return this.stop('SIGKILL');
  }

  /** Stops the process and removes its data dir. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** A one-member server of the given kind on free loopback ports, not yet started. */
export async function server(kind: ServerKind, opts: ServerOptions = {}): Promise<ServerProcess> {
  const name = opts.name ?? 'default';
  const dataDir = opts.dataDir ?? path.join(tempDir(kind), `${name}.etcd`);
  const peerPort = opts.peerPort ?? (await freePort());
  return new ServerProcess(
    kind,
    name,
    dataDir,
    opts.clientPort ?? (await freePort()),
    peerPort,
    opts.flags ?? [],
    opts.env ?? {},
    opts.initialCluster ?? `${name}=http://127.0.0.1:${peerPort}`,
  );
}

/** A cluster of `size` members (m1, m2, ...) of one kind on loopback, started and serving. */
export async function startCluster(kind: ServerKind, size: number, flags: string[] = []): Promise<ServerProcess[]> {
  const root = tempDir(`${kind}-cluster`);
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i + 1}=http://127.0.0.1:${p.peer}`).join(',');
  const members = await Promise.all(
    ports.map((p, i) =>
      server(kind, {
        name: `m${i + 1}`,
        dataDir: path.join(root, `m${i + 1}.etcd`),
        clientPort: p.client,
        peerPort: p.peer,
        flags: ['--initial-cluster-token=test-cluster', ...flags],
        initialCluster,
      }),
    ),
  );
  await Promise.all(members.map((m) => m.start()));
  return members;
}

/** Starts a one-member server and returns it running. */
export async function startServer(kind: ServerKind, opts: ServerOptions = {}): Promise<ServerProcess> {
  const s = await server(kind, opts);
  await s.start();
  return s;
}
