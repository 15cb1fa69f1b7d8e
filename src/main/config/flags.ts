// etcd's command-line flags and their ETCD_* environment variables: one table, one parser.
// Go's flag syntax is accepted as etcd accepts it: -flag, --flag, -flag=value, --flag value,
// and booleans as --flag or --flag=true|false.

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Kind = 'string' | 'uint' | 'bool' | 'urls';

interface FlagSpec {
  kind: Kind;
  /** The default as etcd prints it in --help; `undefined` means "derived" (see resolveConfig). */
  def?: string;
  help: string;
}

/** Every flag a member takes, named as etcd names it. */
export const FLAGS = {
  name: { kind: 'string', def: 'default', help: 'Human-readable name for this member.' },
  'data-dir': { kind: 'string', help: 'Path to the data directory (default "${name}.etcd").' },
  'listen-client-urls': {
    kind: 'urls',
    def: 'http://localhost:2379',
    help: 'List of URLs to listen on for client traffic.',
  },
  'listen-client-http-urls': {
    kind: 'urls',
    help: 'List of URLs to listen on for http only client traffic: the JSON gateway, /health, /metrics and the WebSocket API (/ws), served by uWebSockets.js (default none).',
  },
  'advertise-client-urls': {
    kind: 'urls',
    def: 'http://localhost:2379',
    help: 'List of this member\'s client URLs to advertise to the public.',
  },
  'listen-peer-urls': {
    kind: 'urls',
    def: 'http://localhost:2380',
    help: 'List of URLs to listen on for peer traffic.',
  },
  'initial-advertise-peer-urls': {
    kind: 'urls',
    def: 'http://localhost:2380',
    help: 'List of this member\'s peer URLs to advertise to the rest of the cluster.',
  },
  'initial-cluster': {
    kind: 'string',
    help: 'Initial cluster configuration for bootstrapping (default "${name}=http://localhost:2380").',
  },
  'initial-cluster-state': {
    kind: 'string',
    def: 'new',
    help: 'Initial cluster state (\'new\' or \'existing\').',
  },
  'initial-cluster-token': {
    kind: 'string',
    def: 'etcd-cluster',
    help: 'Initial cluster token for the etcd cluster during bootstrap.',
  },
  'heartbeat-interval': { kind: 'uint', def: '100', help: 'Time (in milliseconds) of a heartbeat interval.' },
  'election-timeout': { kind: 'uint', def: '1000', help: 'Time (in milliseconds) for an election to timeout.' },
  'pre-vote': { kind: 'bool', def: 'true', help: 'Enable to run an additional Raft election phase.' },
  'snapshot-count': {
    kind: 'uint',
    def: '100000',
    help: 'Number of committed transactions to trigger a snapshot to disk.',
  },
  'experimental-snapshot-catchup-entries': {
    kind: 'uint',
    def: '5000',
    help: 'Number of entries for a slow follower to catch up after compacting the raft storage entries.',
  },
  'quota-backend-bytes': {
    kind: 'uint',
    def: '0',
    help: 'Raise alarms when backend size exceeds the given quota. 0 means use the default quota (2 GiB).',
  },
  'max-request-bytes': {
    kind: 'uint',
    def: '1572864',
    help: 'Maximum client request size in bytes the server will accept.',
  },
  'max-txn-ops': {
    kind: 'uint',
    def: '128',
    help: 'Maximum number of operations permitted in a transaction.',
  },
  'log-level': {
    kind: 'string',
    def: 'info',
    help: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.',
  },
  version: { kind: 'bool', def: 'false', help: 'Print the version and exit.' },
  help: { kind: 'bool', def: 'false', help: 'Show this help and exit.' },
} satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;
/** Raw flag values as strings, as given (flag, else env), before validation. */
export type RawFlags = Partial<Record<FlagName, string>>;

const isFlag = (name: string): name is FlagName => Object.hasOwn(FLAGS, name);
const specOf = (name: FlagName): FlagSpec => FLAGS[name];

export function flagDefault(flag: FlagName): string | undefined {
  return specOf(flag).def;
}

export function envName(flag: FlagName): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}

/** Parses argv (without node and script) Go-style. Throws ConfigError with etcd's wording. */
export function parseArgv(argv: readonly string[]): RawFlags {
  const raw: RawFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ConfigError(`'${arg}' is not a valid flag`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === 'h') {
      raw.help = 'true';
      continue;
    }
    if (!isFlag(name)) throw new ConfigError(`flag provided but not defined: -${name}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (specOf(name).kind === 'bool') value = 'true';
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new ConfigError(`flag needs an argument: -${name}`);
    raw[name] = value;
  }
  return raw;
}

export interface EnvResult {
  flags: RawFlags;
  /** Unrecognized ETCD_* variables, reported as warnings (as etcd does). */
  unrecognized: string[];
}

/** Fills flags not given on the command line from ETCD_* variables; a variable shadowed by a flag is an error, as in etcd. */
export function applyEnv(flags: RawFlags, env: NodeJS.ProcessEnv): EnvResult {
  const out: RawFlags = { ...flags };
  const known = new Map<string, FlagName>();
  for (const name of Object.keys(FLAGS) as FlagName[]) known.set(envName(name), name);
  const unrecognized: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('ETCD_') || value === undefined) continue;
    const name = known.get(key);
    if (name === undefined || name === 'version' || name === 'help') {
      // ETCDCTL_* belongs to etcdctl; everything else is worth a warning.
      if (!key.startsWith('ETCDCTL_')) unrecognized.push(key);
      continue;
    }
    if (flags[name] !== undefined) {
      throw new ConfigError(
        `conflicting environment variable "${key}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
      );
    }
    out[name] = value;
  }
  return { flags: out, unrecognized };
}

export function parseUint(flag: FlagName, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`invalid value "${value}" for flag -${flag}: parse error`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new ConfigError(`invalid value "${value}" for flag -${flag}: value out of range`);
  return n;
}

export function parseBool(flag: FlagName, value: string): boolean {
  if (/^(1|t|true|TRUE|True)$/.test(value)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(value)) return false;
  throw new ConfigError(`invalid boolean value "${value}" for -${flag}: parse error`);
}

/**
 * etcd's types.NewURLs: http(s) or unix(s) scheme, host:port, no path. Returns the URLs as given
 * (without a trailing slash), because member ids are hashed from their text as etcd hashes it.
 */
export function parseUrls(flag: FlagName, value: string): string[] {
  const bad = (why: string) => new ConfigError(`invalid value "${value}" for flag -${flag}: ${why}`);
  const urls: string[] = [];
  for (const part of value.split(',')) {
    const text = part.trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw bad(`URL scheme must be http, https, unix, or unixs: ${text}`);
    }
    if (!['http:', 'https:', 'unix:', 'unixs:'].includes(url.protocol)) {
      throw bad(`URL scheme must be http, https, unix, or unixs: ${text}`);
    }
    if (url.port === '' && !/:\d+$/.test(url.host)) {
      throw bad(`URL address does not have the form "host:port": ${text}`);
    }
    if (url.pathname !== '' && url.pathname !== '/') throw bad(`URL must not contain a path: ${text}`);
    urls.push(text.replace(/\/$/, ''));
  }
  return urls;
}

export function helpText(): string {
  const lines = ['Usage:', '', '  tsetcd [flags]', '    Start a tsetcd member (etcd v3 API compatible).', '', 'Flags:'];
  for (const [name, spec] of Object.entries(FLAGS) as [FlagName, FlagSpec][]) {
    const def = spec.def !== undefined && spec.kind !== 'bool' ? ` (default "${spec.def}")` : '';
    lines.push(`  --${name}`, `      ${spec.help}${def}  [env ${envName(name)}]`);
  }
  return lines.join('\n') + '\n';
}
