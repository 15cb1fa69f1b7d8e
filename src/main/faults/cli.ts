// `tsetcd fault-proxy`: runs the fault proxy in front of a cluster's peer ports until SIGTERM or
// Ctrl-C, with its control API on --control. Each member advertises its route's listen address
// as its peer URL and listens on its real one, e.g. for m1:
//   --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:12380
//   --initial-cluster=m1=http://127.0.0.1:12380,m2=http://127.0.0.1:12381,...
import { parseArgs } from 'node:util';
import { startControlServer } from './control.js';
import { FaultConfigError, updateFaults, NO_FAULTS } from './link-faults.js';
import { FaultProxy, type HostPort, type ProxyRoute } from './proxy.js';

const USAGE = `usage: tsetcd fault-proxy --route NAME,LISTEN_HOST:PORT,TARGET_HOST:PORT [--route ...] [options]
  --route NAME,LISTEN,TARGET   proxy connections to member NAME: listen on LISTEN (the member's
                               advertised peer URL), forward to TARGET (its --listen-peer-urls)
  --control HOST:PORT          control API (default 127.0.0.1:0: a free port, printed at start)
  --cluster-token TOKEN        the cluster's --initial-cluster-token: names sources by member id
  --seed N                     seed for jitter, loss and random resets
  --delay-ms N --jitter-ms N --bandwidth BYTES_PER_S
                               initial faults on every link (one way; RTT = 2 x delay)
Control API (JSON): GET /links; POST /faults {"from","to","faults":{...}}; POST /partition
{"groups":[[...],[...]],"mode":"drop"|"hold"}; POST /heal; POST /clear; POST /reset {"from","to"}.
Fault fields: delayMs jitterMs bandwidthBytesPerSec lossProbability lossSpikeMs resetProbability
partition ("none"|"drop"|"hold").
`;

class UsageError extends Error {}

function hostPort(text: string, what: string): HostPort {
  const m = /^(.*):(\d+)$/.exec(text.trim());
  if (m === null || m[1] === '') throw new UsageError(`${what}: "${text}" is not HOST:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`${what}: port ${port} out of range`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function route(text: string): ProxyRoute {
  const parts = text.split(',');
  if (parts.length !== 3 || parts[0] === '') throw new UsageError(`--route "${text}" is not NAME,LISTEN_HOST:PORT,TARGET_HOST:PORT`);
  return { name: parts[0]!, listen: hostPort(parts[1]!, '--route'), target: hostPort(parts[2]!, '--route') };
}

function number(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${what} must be a non-negative number, not ${text}`);
  return n;
}

/** Runs until a signal; returns the exit code (2 for usage errors). */
export async function runFaultProxy(argv: string[]): Promise<number> {
  let proxy: FaultProxy;
  let control: { port: number; close(): Promise<void> };
  let controlAt: HostPort;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        route: { type: 'string', multiple: true },
        control: { type: 'string' },
        'cluster-token': { type: 'string' },
        seed: { type: 'string' },
        'delay-ms': { type: 'string' },
        'jitter-ms': { type: 'string' },
        bandwidth: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    const routes = (values.route ?? []).map(route);
    if (routes.length === 0) throw new UsageError('at least one --route is needed');
    const initial = updateFaults(NO_FAULTS, {
      delayMs: number(values['delay-ms'], '--delay-ms') ?? 0,
      jitterMs: number(values['jitter-ms'], '--jitter-ms') ?? 0,
      bandwidthBytesPerSec: number(values.bandwidth, '--bandwidth') ?? 0,
    });
    controlAt = hostPort(values.control ?? '127.0.0.1:0', '--control');
    const seed = number(values.seed, '--seed');
    proxy = await FaultProxy.start({
      routes,
      ...(values['cluster-token'] !== undefined ? { clusterToken: values['cluster-token'] } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });
    proxy.setFaults({}, initial);
  } catch (e) {
    if (e instanceof UsageError || e instanceof FaultConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`tsetcd fault-proxy: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  try {
    control = await startControlServer(proxy, controlAt.host, controlAt.port);
  } catch (e) {
    await proxy.close();
    throw e;
  }
  process.stdout.write(
    `${JSON.stringify({
      msg: 'fault proxy ready',
      control: `http://${controlAt.host}:${control.port}`,
      routes: proxy.routes.map((r) => ({ name: r.name, advertise: proxy.advertisedUrl(r.name), target: `${r.target.host}:${r.target.port}` })),
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await control.close();
  await proxy.close();
  return 0;
}
