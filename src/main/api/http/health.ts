// etcd's health endpoints (etcd 3.4 with the 3.5 probes backported to 3.4.30):
// - /health: `{"health":"true"}`, or 503 `{"health":"false"}` without a leader or when a read
//   fails; `?serializable=true` skips the leader and reads locally.
// - /livez (a local read) and /readyz (no corruption alarm, a local and a linearizable read):
//   "ok", or 503 with one line per check; `?verbose` lists the checks on success too;
//   `?exclude=<check>` skips one; /livez/<check> and /readyz/<check> run one check.
import type { HealthMetrics } from '../../metrics/health-metrics.js';
import { httpError, respond, type HttpExchange } from './exchange.js';

/** What the checks need of the member. */
export interface HealthSource {
  readonly leader: bigint;
  /** A keys-only range of one key: locally when serializable, else linearizable. */
  range(req: { key: Buffer; keysOnly: boolean; limit: number }, serializable: boolean): Promise<unknown>;
  readonly config: { readonly electionTimeoutMs: number };
}

const PLAIN_TEXT = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } as const;
const PROBE_REQUEST = { key: Buffer.alloc(0), keysOnly: true, limit: 1 };

type Check = (member: HealthSource) => Promise<void>;

const readCheck = (serializable: boolean): Check => async (member) => {
  await withTimeout(member.range(PROBE_REQUEST, serializable), requestTimeoutMs(member));
};

/** No alarm is ever raised by tsetcd yet, so the corruption check always passes. */
const noCorruptionAlarm: Check = () => Promise.resolve();

const PROBES: Readonly<Record<'livez' | 'readyz', ReadonlyMap<string, Check>>> = {
  livez: new Map([['serializable_read', readCheck(true)]]),
  readyz: new Map([
    ['data_corruption', noCorruptionAlarm],
    ['serializable_read', readCheck(true)],
    ['linearizable_read', readCheck(false)],
  ]),
};

export class HealthEndpoints {
  constructor(
    private readonly member: HealthSource,
    private readonly metrics: HealthMetrics,
  ) {}

  /** Answers /health, /livez, /readyz and their checks; false for any other path. */
  handle(ex: HttpExchange): boolean {
    if (ex.path === '/health') {
      if (methodAllowed(ex)) void this.health(ex);
      return true;
    }
    const [, type, check, ...rest] = ex.path.split('/');
    if ((type !== 'livez' && type !== 'readyz') || rest.length > 0) return false;
    const checks = PROBES[type];
    if (check !== undefined && !checks.has(check)) return false;
    if (methodAllowed(ex)) void this.probe(ex, type, check === undefined ? undefined : [check]);
    return true;
  }

  private async health(ex: HttpExchange): Promise<void> {
    const serializable = new URLSearchParams(ex.query).get('serializable') === 'true';
    let healthy = serializable || this.member.leader !== 0n;
    if (healthy) {
      try {
        await readCheck(serializable)(this.member);
      } catch {
        healthy = false;
      }
    }
    this.metrics.health(healthy);
    if (healthy) respond(ex, 200, { 'Content-Type': 'text/plain; charset=utf-8' }, '{"health":"true"}');
    else httpError(ex, 503, '{"health":"false"}');
  }

  private async probe(ex: HttpExchange, type: 'livez' | 'readyz', only: string[] | undefined): Promise<void> {
    const query = new URLSearchParams(ex.query);
    const excluded = new Set(query.getAll('exclude'));
    const checks = PROBES[type];
    const names = only ?? [...checks.keys()].filter((name) => !excluded.has(name));
    let report = '';
    let ok = true;
    for (const name of names) {
      try {
        await checks.get(name)!(this.member);
        report += `[+]${name} ok\n`;
        this.metrics.checked(type, name, true);
      } catch (e) {
        ok = false;
        report += `[-]${name} failed: ${e instanceof Error ? e.message : String(e)}\n`;
        this.metrics.checked(type, name, false);
      }
    }
    if (!ok) return httpError(ex, 503, report);
    respond(ex, 200, PLAIN_TEXT, (query.has('verbose') ? report : '') + 'ok\n');
  }
}

/** etcd's health handlers answer GET only. */
function methodAllowed(ex: HttpExchange): boolean {
  if (ex.method === 'GET') return true;
  httpError(ex, 405, 'Method Not Allowed', { Allow: 'GET' });
  return false;
}

/** etcd's request timeout: 5 s plus two election timeouts. */
function requestTimeoutMs(member: HealthSource): number {
  return 5000 + 2 * member.config.electionTimeoutMs;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('etcdserver: request timed out')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
