// Runs the real etcdctl (Debian's etcd-client, v3.4) against an endpoint.
import { execFile } from 'node:child_process';

export const ETCDCTL_BIN = '/usr/bin/etcdctl';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function etcdctl(endpoint: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CtlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      ETCDCTL_BIN,
      [`--endpoints=${endpoint}`, '--dial-timeout=5s', '--command-timeout=10s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: opts.timeoutMs ?? 30000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}
