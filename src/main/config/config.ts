// A member's validated configuration, resolved from flags and ETCD_* variables with etcd's defaults and checks.
import { ConfigError, flagDefault, parseBool, parseUint, parseUrls, type FlagName, type RawFlags } from './flags.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'];

/** etcd refuses election timeouts above this (embed.maxElectionMs). */
const MAX_ELECTION_MS = 50000;
/** --quota-backend-bytes 0 means etcd's default quota. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export interface MemberConfig {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  /** HTTP-only client URLs (etcd 3.5's --listen-client-http-urls): gateway, endpoints, WebSocket API. */
  listenClientHttpUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrls: string[];
  initialAdvertisePeerUrls: string[];
  /** member name → its peer URLs, in the order given. */
  initialCluster: Map<string, string[]>;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  preVote: boolean;
  snapshotCount: number;
  /** Entries kept behind a snapshot for slow followers (etcd's --experimental-snapshot-catchup-entries). */
  snapshotCatchUpEntries: number;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  logLevel: LogLevel;
}

function valueOf(raw: RawFlags, flag: FlagName): string | undefined {
  return raw[flag] ?? flagDefault(flag);
}

function required(raw: RawFlags, flag: FlagName): string {
  const v = valueOf(raw, flag);
  if (v === undefined) throw new Error(`flag ${flag} has no default`);
  return v;
}

/** "a=http://h:1,a=http://h:2,b=http://h:3" → name → URLs (etcd's types.NewURLsMap). */
export function parseInitialCluster(value: string): Map<string, string[]> {
  const cluster = new Map<string, string[]>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--initial-cluster: "${part}" is not of the form name=peer-url`);
    const name = part.slice(0, eq).trim();
    const urls = parseUrls('initial-cluster', part.slice(eq + 1).trim());
    cluster.set(name, [...(cluster.get(name) ?? []), ...urls]);
  }
  return cluster;
}

export function resolveConfig(raw: RawFlags): MemberConfig {
  const name = required(raw, 'name');
  const heartbeatIntervalMs = parseUint('heartbeat-interval', required(raw, 'heartbeat-interval'));
  const electionTimeoutMs = parseUint('election-timeout', required(raw, 'election-timeout'));
  if (heartbeatIntervalMs <= 0) {
    throw new ConfigError(`--heartbeat-interval must be >0 (set to ${heartbeatIntervalMs}ms)`);
  }
  if (electionTimeoutMs <= 0) throw new ConfigError(`--election-timeout must be >0 (set to ${electionTimeoutMs}ms)`);
  if (5 * heartbeatIntervalMs > electionTimeoutMs) {
    throw new ConfigError(
      `--election-timeout[${electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatIntervalMs}ms]`,
    );
  }
  if (electionTimeoutMs > MAX_ELECTION_MS) {
    throw new ConfigError(
      `--election-timeout[${electionTimeoutMs}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`,
    );
  }

  const state = required(raw, 'initial-cluster-state');
  if (state !== 'new' && state !== 'existing') {
    throw new ConfigError(`invalid value "${state}" for flag -initial-cluster-state: valid values are "new", "existing"`);
  }

  const logLevel = required(raw, 'log-level');
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`unknown log level "${logLevel}" (only supports debug, info, warn, error, panic, or fatal)`);
  }

  if (raw['listen-client-urls'] !== undefined && raw['advertise-client-urls'] === undefined) {
    throw new ConfigError('--advertise-client-urls is required when --listen-client-urls is set explicitly');
  }
  const listenClientUrls = parseUrls('listen-client-urls', required(raw, 'listen-client-urls'));
  const httpUrls = valueOf(raw, 'listen-client-http-urls') ?? '';
  const listenClientHttpUrls = httpUrls === '' ? [] : parseUrls('listen-client-http-urls', httpUrls);
  const initialAdvertisePeerUrls = parseUrls('initial-advertise-peer-urls', required(raw, 'initial-advertise-peer-urls'));
  const initialCluster = parseInitialCluster(
    valueOf(raw, 'initial-cluster') ?? `${name}=${initialAdvertisePeerUrls.join(`,${name}=`)}`,
  );
  const ownPeers = initialCluster.get(name);
  if (ownPeers === undefined) {
    throw new ConfigError(
      `couldn't find local name "${name}" in the initial cluster configuration (--initial-cluster)`,
    );
  }
  const advertised = new Set(initialAdvertisePeerUrls);
  if (ownPeers.length !== advertised.size || !ownPeers.every((u) => advertised.has(u))) {
    throw new ConfigError(
      `--initial-cluster has ${name}=${ownPeers.join(',')} but missing from --initial-advertise-peer-urls=${initialAdvertisePeerUrls.join(',')}`,
    );
  }

  const maxRequestBytes = parseUint('max-request-bytes', required(raw, 'max-request-bytes'));
  const maxTxnOps = parseUint('max-txn-ops', required(raw, 'max-txn-ops'));
  if (maxTxnOps === 0) throw new ConfigError('--max-txn-ops must be >0');
  const quota = parseUint('quota-backend-bytes', required(raw, 'quota-backend-bytes'));

  return {
    name,
    dataDir: valueOf(raw, 'data-dir') ?? `${name}.etcd`,
    listenClientUrls,
    listenClientHttpUrls,
    advertiseClientUrls: parseUrls('advertise-client-urls', required(raw, 'advertise-client-urls')),
    listenPeerUrls: parseUrls('listen-peer-urls', required(raw, 'listen-peer-urls')),
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: required(raw, 'initial-cluster-token'),
    heartbeatIntervalMs,
    electionTimeoutMs,
    preVote: parseBool('pre-vote', required(raw, 'pre-vote')),
    snapshotCount: parseUint('snapshot-count', required(raw, 'snapshot-count')),
    snapshotCatchUpEntries: parseUint(
      'experimental-snapshot-catchup-entries',
      required(raw, 'experimental-snapshot-catchup-entries'),
    ),
    quotaBackendBytes: quota === 0 ? DEFAULT_QUOTA_BYTES : quota,
    maxRequestBytes,
    maxTxnOps,
    logLevel: logLevel as LogLevel,
  };
}
