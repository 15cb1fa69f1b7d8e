// `tsetcd bench` command line: the workload, its flags and their defaults, parsed into one plain
// BenchOptions value (plain data: it is also what worker threads receive).
// Flags follow etcd's tools/benchmark where it has them (same names and defaults).

import os from 'node:os';

export const WORKLOADS = ['put', 'range', 'txn-put', 'mixed', 'watch', 'watch-latency', 'lease-keepalive'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const PROTOCOLS = ['grpc', 'ws'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface Endpoint {
  /** `http://host:port` */
  readonly url: string;
}

/** How long the load runs: a number of operations (split over all clients) or a time. */
export type StopRule = { readonly kind: 'total'; readonly total: number } | { readonly kind: 'duration'; readonly ms: number };

export interface KeyOptions {
  /** Put in front of every key (for watch workloads: the watched prefix). */
  readonly prefix: string;
  /** Digits after the prefix: key i is `prefix` + i zero-padded to this many digits. */
  readonly size: number;
  /** Keys are drawn from indices 0 .. spaceSize-1. */
  readonly spaceSize: number;
  /** Index = operation number modulo spaceSize, instead of uniformly random. */
  readonly sequential: boolean;
}

export interface BenchOptions {
  readonly workload: WorkloadName;
  readonly endpoints: readonly Endpoint[];
  readonly protocol: Protocol;
  /** Connections in all threads; each thread opens its own share. */
  readonly conns: number;
  /** Concurrent clients in all threads, each with at most one operation in flight. */
  readonly clients: number;
  readonly stop: StopRule;
  /** Load run before the measured --duration and left out of every figure (0: none). */
  readonly warmupMs: number;
  /** Operations started per second over all clients (open loop); 0 = as fast as clients go. */
  readonly rate: number;
  readonly threads: number;
  readonly keys: KeyOptions;
  readonly valSize: number;
  /** Range consistency: linearizable or serializable. */
  readonly consistency: 'l' | 's';
  /** mixed: fraction of operations that are ranges. */
  readonly readRatio: number;
  /** txn-put: puts per transaction. */
  readonly txnOps: number;
  /** watch workloads: watchers over all threads, spread over `streams` watch streams. */
  readonly watchers: number;
  readonly streams: number;
  readonly json: boolean;
  readonly hdrLog: string | undefined;
  readonly report: string | undefined;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

type FlagKind = 'int' | 'number' | 'string' | 'bool' | 'duration';

interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  /** Workloads the flag applies to; undefined = all. */
  readonly only?: readonly WorkloadName[];
}

const KV_WORKLOADS: readonly WorkloadName[] = ['put', 'range', 'txn-put', 'mixed'];
const WATCH_WORKLOADS: readonly WorkloadName[] = ['watch', 'watch-latency'];
const KEYED_WORKLOADS: readonly WorkloadName[] = [...KV_WORKLOADS, ...WATCH_WORKLOADS];
/** Workloads whose latencies are of operations (watch workloads time events). */
const OPERATION_WORKLOADS: readonly WorkloadName[] = [...KV_WORKLOADS, 'lease-keepalive'];

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  endpoints: { kind: 'string', help: 'comma-separated host:port or http://host:port (default 127.0.0.1:2379)' },
  protocol: { kind: 'string', help: 'client protocol: grpc or ws (default grpc)' },
  conns: { kind: 'int', help: 'connections, spread over the endpoints (default 1)' },
  clients: { kind: 'int', help: 'concurrent clients, spread over the connections (default 1)' },
  total: { kind: 'int', help: 'operations to run (default 10000; watch-latency 1000)' },
  duration: { kind: 'duration', help: 'run for this long instead of --total, e.g. 10s, 1m30s' },
  warmup: { kind: 'duration', help: 'run the load this long first and leave it out of the results (needs --duration)', only: OPERATION_WORKLOADS },
  rate: { kind: 'number', help: 'operations started per second, open loop (default 0 = unlimited; watch-latency 100)' },
  threads: { kind: 'string', help: 'worker threads running the clients: N or auto (one per 2,500 ops/s of --rate, or per 100 clients; at most one per core) (default 1)' },
  'key-size': { kind: 'int', help: 'digits of the generated part of each key (default 8)', only: KEYED_WORKLOADS },
  'val-size': { kind: 'int', help: 'value size in bytes (default 8)', only: KEYED_WORKLOADS },
  'key-space-size': { kind: 'int', help: 'number of distinct keys (default 1)', only: KEYED_WORKLOADS },
  'sequential-keys': { kind: 'bool', help: 'use keys in order instead of at random', only: KEYED_WORKLOADS },
  'key-prefix': { kind: 'string', help: 'prefix of every key (default empty)', only: KV_WORKLOADS },
  consistency: { kind: 'string', help: 'range consistency: l (linearizable) or s (serializable) (default l)', only: ['range', 'mixed'] },
  'read-ratio': { kind: 'number', help: 'fraction of ranges among operations (default 0.9)', only: ['mixed'] },
  'txn-ops': { kind: 'int', help: 'puts per transaction (default 1)', only: ['txn-put'] },
  watchers: { kind: 'int', help: 'watchers, all on --watch-prefix (default 100)', only: WATCH_WORKLOADS },
  streams: { kind: 'int', help: 'watch streams the watchers share (default 10)', only: WATCH_WORKLOADS },
  'watch-prefix': { kind: 'string', help: 'watched prefix; the puts go under it (default /bench-watch/)', only: WATCH_WORKLOADS },
  json: { kind: 'bool', help: 'print the results as JSON instead of the text summary' },
  'hdr-log': { kind: 'string', help: 'write per-second latency histograms to this file (HdrHistogram log format)' },
  report: { kind: 'string', help: 'write a self-contained HTML report to this file' },
};

const DESCRIPTIONS: Readonly<Record<WorkloadName, string>> = {
  put: 'Put requests',
  range: 'Range requests on keys of the key space (run put first to fill it)',
  'txn-put': 'Txn requests of --txn-ops puts each',
  mixed: 'ranges and puts, --read-ratio of them ranges',
  watch: 'events per second delivered to --watchers watchers while putting under --watch-prefix',
  'watch-latency': 'put-to-event latency: like watch, paced at --rate 100 by default',
  'lease-keepalive': 'lease keepalive round trips: one lease and keepalive stream per client',
};

export function helpText(): string {
  const workloads = WORKLOADS.map((w) => `  ${w.padEnd(16)}${DESCRIPTIONS[w]}`).join('\n');
  const flags = Object.entries(FLAGS)
    .map(([name, spec]) => {
      const scope = spec.only === undefined ? '' : ` [${spec.only.join(', ')}]`;
      return `  --${name.padEnd(17)}${spec.help}${scope}`;
    })
    .join('\n');
  return (
    `Usage: tsetcd bench <workload> [flags]\n\nA load generator for etcd-compatible servers (tsetcd, etcd).\n\n` +
    `Workloads:\n${workloads}\n\nFlags:\n${flags}\n  --help             show this help\n\n` +
    `Latencies are measured from when an operation was due (with --rate) or started, to its response.\n` +
    `Exit code: 0 when every operation succeeded, 1 when some failed (the summary is printed anyway), 2 on usage errors.\n`
  );
}

/** The parsed command line, or 'help'. Throws UsageError. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  const raw = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = FLAGS[name];
    if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
    if (raw.has(name)) throw new UsageError(`--${name} given twice`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new UsageError(`--${name} needs a value`);
    raw.set(name, value);
  }
  if (positional.length === 0) throw new UsageError(`missing workload: one of ${WORKLOADS.join(', ')}`);
  if (positional.length > 1) throw new UsageError(`unexpected argument ${positional[1]}`);
  const workload = positional[0]!;
  if (!isWorkload(workload)) throw new UsageError(`unknown workload ${workload}: one of ${WORKLOADS.join(', ')}`);
  for (const name of raw.keys()) {
    const only = FLAGS[name]!.only;
    if (only !== undefined && !only.includes(workload)) throw new UsageError(`--${name} does not apply to ${workload} (only to ${only.join(', ')})`);
  }
  return resolve(workload, new FlagValues(raw));
}

function isWorkload(s: string): s is WorkloadName {
  return (WORKLOADS as readonly string[]).includes(s);
}

/** Typed access to the raw flag strings, with defaults and range checks. */
class FlagValues {
  constructor(private readonly raw: ReadonlyMap<string, string>) {}

  has(name: string): boolean {
    return this.raw.has(name);
  }

  string(name: string, fallback: string): string {
    return this.raw.get(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    const v = this.raw.get(name);
    if (v === '') throw new UsageError(`--${name} needs a value`);
    return v;
  }

  int(name: string, fallback: number, min: number): number {
    const v = this.raw.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`--${name}: not a whole number: ${v}`);
    if (n < min) throw new UsageError(`--${name} must be at least ${min}`);
    return n;
  }

  number(name: string, fallback: number, min: number, max = Infinity): number {
    const v = this.raw.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: not a number: ${v}`);
    if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
    return n;
  }

  bool(name: string): boolean {
    const v = this.raw.get(name);
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    throw new UsageError(`--${name}: expected true or false, got ${v}`);
  }

  durationMs(name: string): number | undefined {
    const v = this.raw.get(name);
    return v === undefined ? undefined : parseDurationMs(v, name);
  }
}

function resolve(workload: WorkloadName, f: FlagValues): BenchOptions {
  const isWatch = WATCH_WORKLOADS.includes(workload);
  const endpoints = f.string('endpoints', '127.0.0.1:2379').split(',').map(parseEndpoint);
  const protocol = f.string('protocol', 'grpc');
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(', ')}`);

  const conns = f.int('conns', 1, 1);
  const clients = f.int('clients', 1, 1);
  const durationMs = f.durationMs('duration');
  if (durationMs !== undefined && f.has('total')) throw new UsageError('give --total or --duration, not both');
  const stop: StopRule =
    durationMs !== undefined ? { kind: 'duration', ms: durationMs } : { kind: 'total', total: f.int('total', workload === 'watch-latency' ? 1000 : 10000, 1) };
  const warmupMs = f.durationMs('warmup') ?? 0;
  if (warmupMs > 0 && stop.kind !== 'duration') throw new UsageError('--warmup needs --duration');
  const rate = f.number('rate', workload === 'watch-latency' ? 100 : 0, 0);

  const keys: KeyOptions = {
    prefix: isWatch ? f.string('watch-prefix', '/bench-watch/') : f.string('key-prefix', ''),
    size: f.int('key-size', 8, 1),
    spaceSize: f.int('key-space-size', 1, 1),
    sequential: f.bool('sequential-keys'),
  };
  if (isWatch && keys.prefix === '') throw new UsageError('--watch-prefix must not be empty');
  if (String(keys.spaceSize - 1).length > keys.size) {
    throw new UsageError(`--key-size ${keys.size} is too small for --key-space-size ${keys.spaceSize} (keys are decimal indices)`);
  }
  const valSize = f.int('val-size', 8, isWatch ? 8 : 0);
  const consistency = f.string('consistency', 'l');
  if (consistency !== 'l' && consistency !== 's') throw new UsageError('--consistency must be l or s');
  const txnOps = f.int('txn-ops', 1, 1);
  if (txnOps > keys.spaceSize) throw new UsageError('--txn-ops must not exceed --key-space-size (a txn may not put a key twice)');
  const watchers = f.int('watchers', 100, 1);
  const streams = f.int('streams', Math.min(10, watchers), 1);
  if (isWatch && streams > watchers) throw new UsageError('--streams must not exceed --watchers');

  const threads = resolveThreads(f.string('threads', '1'), conns, clients, rate);
  if (threads > conns || threads > clients) {
    throw new UsageError(`--threads ${threads} needs at least as many --conns and --clients (each thread has its own)`);
  }
  if (isWatch && threads > streams) throw new UsageError(`--threads ${threads} needs at least as many --streams`);

  return {
    workload,
    endpoints,
    protocol: protocol as Protocol,
    conns,
    clients,
    stop,
    warmupMs,
    rate,
    threads,
    keys,
    valSize,
    consistency,
    readRatio: f.number('read-ratio', 0.9, 0, 1),
    txnOps,
    watchers,
    streams,
    json: f.bool('json'),
    hdrLog: f.optionalString('hdr-log'),
    report: f.optionalString('report'),
  };
}

/**
 * Operations a second one generator thread is given under `--threads auto` with a rate: a put
 * costs the generator about 0.19 ms of CPU (2,000 puts/s took 37-39 % of a core here), so this is
 * about half a core. A second thread below that costs more than it gives: at 2,000 puts/s on
 * 2 cores, two threads took 49-54 % of a core and started operations later (start lag p99
 * 24-34 ms against 19-20 ms with one).
 */
const RATE_PER_THREAD = 2500;

/**
 * `auto`: with a rate, one thread per RATE_PER_THREAD operations a second; without, one per
 * 100 clients. At most one per core, per connection and per client.
 */
function resolveThreads(value: string, conns: number, clients: number, rate: number): number {
  if (value === 'auto') {
    const wanted = rate > 0 ? Math.ceil(rate / RATE_PER_THREAD) : Math.ceil(clients / 100);
    return Math.max(1, Math.min(os.availableParallelism(), conns, clients, wanted));
  }
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`--threads must be a positive whole number or auto, got ${value}`);
  return n;
}

/** `host:port`, `http://host:port` or `[v6]:port`. */
export function parseEndpoint(text: string): Endpoint {
  const s = text.trim();
  if (s.startsWith('https://')) throw new UsageError(`TLS endpoints are not supported: ${s}`);
  let url: URL;
  try {
    url = new URL(s.includes('://') ? s : `http://${s}`);
  } catch {
    throw new UsageError(`bad endpoint: ${JSON.stringify(s)}`);
  }
  if (url.protocol !== 'http:' || url.port === '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new UsageError(`bad endpoint ${JSON.stringify(s)}: expected host:port or http://host:port`);
  }
  return { url: `http://${url.host}` };
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations: 10s, 500ms, 1m30s, 1.5h. */
export function parseDurationMs(text: string, flag = 'duration'): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) throw new UsageError(`--${flag}: bad duration ${JSON.stringify(text)} (e.g. 10s, 500ms, 1m30s)`);
    ms += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    at = re.lastIndex;
  }
  if (!(ms > 0)) throw new UsageError(`--${flag} must be positive (e.g. 10s)`);
  return ms;
}
