// A command run to its end as a child of the harness (the load generators: tsetcd bench, etcdctl
// check perf), killed if the harness exits first or the run outlasts its timeout.
import { spawn } from 'node:child_process';
import { onCleanup } from './cleanup.js';

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** How it ended, for an error message: "exited with 1", "killed by SIGKILL (timeout 600000 ms)". */
  ending: string;
  /** The last lines of stderr, on one line. */
  stderrTail: string;
}

export async function runChild(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildOutcome> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const unregister = onCleanup(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  }).finally(() => {
    clearTimeout(timer);
    unregister();
  });
  const ending = signal !== null ? `killed by ${signal} (timeout ${timeoutMs} ms)` : `exited with ${code}`;
  return { code, signal, stdout, stderr, ending, stderrTail: stderr.trim().split('\n').slice(-2).join(' | ') };
}
