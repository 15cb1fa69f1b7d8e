// `etcdctl watch` as a running process: it watches until killed, so tests start it, do their writes,
// wait for the output they expect, then stop it and read everything it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { ETCDCTL_BIN } from '../helpers/etcdctl.js';

export interface WatchTranscript {
  stdout: string;
  stderr: string;
  /** Exit code, or null when the test stopped it. */
  code: number | null;
}

export class EtcdctlWatch {
  private out = '';
  private err = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(endpoint: string, args: string[]) {
    this.child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, '--dial-timeout=5s', 'watch', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exitCode = code;
        resolve();
      }),
    );
  }

  get stdout(): string {
    return this.out;
  }

  /** A line for `watch -i`. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Waits until `done(stdout, stderr)` holds or the process exits; fails after timeoutMs. */
  async until(done: (stdout: string, stderr: string) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.out, this.err) && this.exitCode === undefined) {
      if (Date.now() > deadline) throw new Error(`etcdctl watch: timed out; stdout so far:\n${this.out}\nstderr:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops it (if it still runs) and returns what it printed. */
  async stop(): Promise<WatchTranscript> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    await this.exited;
    return { stdout: this.out, stderr: this.err, code: this.exitCode === undefined ? null : this.exitCode };
  }

  /** Waits for it to exit by itself. */
  async exit(timeoutMs = 15_000): Promise<WatchTranscript> {
    await this.until(() => false, timeoutMs).catch(() => undefined);
    return this.stop();
  }
}

/** Lines of etcdctl's simple watch output that are events (each event prints type, key, value). */
export function eventCount(stdout: string): number {
  return stdout.split('\n').filter((l) => l === 'PUT' || l === 'DELETE').length;
}
