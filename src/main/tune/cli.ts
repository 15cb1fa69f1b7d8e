// `tsetcd tune`: measures the round-trip times between members and recommends
// --heartbeat-interval and --election-timeout (advice.ts has the rules).
//
//   tsetcd tune --endpoints http://10.0.0.1:2379,...   reads each member's own measurements from
//       /metrics (etcd_network_peer_round_trip_time_seconds, a histogram per peer, label To);
//       where no member exports it, probes the peer URLs the cluster lists, from this host
//   tsetcd tune --peer-urls http://10.0.0.1:2380,...   probes those peer ports from this host
//
// Probing measures this host's round trips to each member, so run it on a member's host (each
// member's own figures come from /metrics). --heartbeat-interval/--election-timeout judge the
// current settings too.
import { parseArgs } from 'node:util';
import { grpcMethod, GrpcChannel } from '../api/grpc/client.js';
import { ClusterService } from '../api/grpc/etcd-services.js';
import { encodeFrame } from '../api/grpc/framing.js';
import { decode } from '../api/proto/index.js';
import { quantile, recommendTimings, timingAdvice, type LinkRtt, type TimingAdvice, type TimingRecommendation } from './advice.js';
import { histogramDelta, histogramQuantile, parseHistograms, type Histogram } from './metrics-text.js';
import { probeRtts } from './probe.js';

export const RTT_METRIC = 'etcd_network_peer_round_trip_time_seconds';
const MEMBER_LIST = grpcMethod(ClusterService, 'MemberList');
const REQUEST_TIMEOUT_MS = 3000;

const USAGE = `usage: tsetcd tune (--endpoints URLS | --peer-urls URLS) [options]
  --endpoints URLS           client URLs of the members: read their peer round trips from /metrics,
                             or probe the peer URLs they list if /metrics has none
  --peer-urls URLS           probe these peer URLs from this host
  --samples N                probes per peer (default 20)
  --interval-ms N            time between probes (default 100)
  --window-s N               with --endpoints: use only round trips measured during the next N s
                             (default 0: everything the members measured since they started)
  --heartbeat-interval MS --election-timeout MS
                             judge these current settings as well
  --json                     machine-readable output
`;

export interface TuneIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const PROCESS_IO: TuneIO = { stdout: process.stdout, stderr: process.stderr };

class UsageError extends Error {}

interface TuneReport {
  source: 'metrics' | 'probe';
  links: LinkRtt[];
  recommendation: TimingRecommendation;
  current?: { heartbeatMs: number; electionMs: number; advice: TimingAdvice };
  notes: string[];
}

interface ClusterMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/** Runs `tsetcd tune` with `argv` (after `tune`); returns the exit code (2: usage, 1: nothing measured). */
export async function runTune(argv: string[], io: TuneIO = PROCESS_IO): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.stderr.write(`tsetcd tune: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (options === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  const notes: string[] = [];
  let source: TuneReport['source'] = 'probe';
  let links: LinkRtt[] = [];
  if (options.endpoints.length > 0) {
    const members = await memberList(options.endpoints, notes);
    links = await fromMetrics(options.endpoints, members, options.windowS, notes);
    if (links.some((l) => l.samples > 0)) source = 'metrics';
    else {
      notes.push(`no member exports ${RTT_METRIC} with samples yet: probing the listed peer URLs from this host`);
      links = await probeAll(members.flatMap((m) => m.peerUrls.slice(0, 1).map((url) => ({ name: m.name, url }))), options, notes);
    }
  } else {
    links = await probeAll(options.peerUrls.map((url) => ({ name: url, url })), options, notes);
  }
  const report: TuneReport = { source, links, recommendation: recommendTimings(links), notes };
  if (options.heartbeatMs !== undefined && options.electionMs !== undefined) {
    report.current = { heartbeatMs: options.heartbeatMs, electionMs: options.electionMs, advice: timingAdvice(report.links.flatMap(linkSamples), options.heartbeatMs, options.electionMs) };
  }
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return links.some((l) => l.samples > 0) ? 0 : 1;
}

/** Stand-in samples for judging current settings: a link's median and p99 (what advice looks at). */
function linkSamples(l: LinkRtt): number[] {
  return l.samples > 0 ? [l.medianSeconds, l.p99Seconds] : [];
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoints: { type: 'string' },
      'peer-urls': { type: 'string' },
      samples: { type: 'string' },
      'interval-ms': { type: 'string' },
      'window-s': { type: 'string' },
      'heartbeat-interval': { type: 'string' },
      'election-timeout': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true) return 'help' as const;
  const urls = (text: string | undefined) => (text ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '').map((u) => (u.includes('://') ? u : `http://${u}`));
  const endpoints = urls(values.endpoints);
  const peerUrls = urls(values['peer-urls']);
  if ((endpoints.length === 0) === (peerUrls.length === 0)) throw new UsageError('give either --endpoints or --peer-urls');
  const int = (name: string, text: string | undefined, fallback: number | undefined, min: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not ${text}`);
    return n;
  };
  const heartbeatMs = int('heartbeat-interval', values['heartbeat-interval'], undefined, 1);
  const electionMs = int('election-timeout', values['election-timeout'], undefined, 1);
  if ((heartbeatMs === undefined) !== (electionMs === undefined)) throw new UsageError('give both --heartbeat-interval and --election-timeout, or neither');
  return {
    endpoints,
    peerUrls,
    samples: int('samples', values.samples, 20, 1)!,
    intervalMs: int('interval-ms', values['interval-ms'], 100, 0)!,
    windowS: int('window-s', values['window-s'], 0, 0)!,
    heartbeatMs,
    electionMs,
    json: values.json === true,
  };
}

async function memberList(endpoints: string[], notes: string[]): Promise<ClusterMember[]> {
  for (const url of endpoints) {
    let channel: GrpcChannel | undefined;
    const connecting = GrpcChannel.connect(url);
    try {
      channel = await withTimeout(connecting, REQUEST_TIMEOUT_MS).catch((e: unknown) => {
        void connecting.then((late) => late.destroy(), () => undefined);
        throw e;
      });
      const res = decode(MEMBER_LIST.response, await withTimeout(channel.unary(MEMBER_LIST, encodeFrame(MEMBER_LIST.request, {})), REQUEST_TIMEOUT_MS));
      return res.members.map((m) => ({ id: m.ID, name: m.name || m.ID.toString(16), peerUrls: m.peerURLs, clientUrls: m.clientURLs }));
    } catch (e) {
      notes.push(`member list from ${url} failed: ${(e as Error).message}`);
    } finally {
      channel?.destroy();
    }
  }
  return [];
}

async function scrape(url: string): Promise<Histogram[] | undefined> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    return parseHistograms(await res.text(), RTT_METRIC);
  } catch {
    return undefined;
  }
}

async function fromMetrics(endpoints: string[], members: ClusterMember[], windowS: number, notes: string[]): Promise<LinkRtt[]> {
  const first = await Promise.all(endpoints.map(scrape));
  let scraped = first;
  if (windowS > 0 && first.some((h) => h !== undefined && h.length > 0)) {
    await new Promise((r) => setTimeout(r, windowS * 1000));
    scraped = (await Promise.all(endpoints.map(scrape))).map((later, i) =>
      later?.map((h) => histogramDelta(h, first[i]?.find((e) => e.labels.To === h.labels.To))),
    );
  }
  const nameOfId = (hex: string | undefined) => members.find((m) => m.id.toString(16) === hex?.toLowerCase())?.name ?? hex ?? '?';
  const nameOfEndpoint = (url: string) => members.find((m) => m.clientUrls.includes(url))?.name ?? url;
  const links: LinkRtt[] = [];
  endpoints.forEach((url, i) => {
    const series = scraped[i];
    if (series === undefined) notes.push(`${url}/metrics: not available`);
    for (const h of series ?? []) {
      const samples = h.buckets.length > 0 ? h.buckets[h.buckets.length - 1]!.count : h.count;
      links.push({
        from: nameOfEndpoint(url),
        to: nameOfId(h.labels.To),
        samples,
        medianSeconds: histogramQuantile(h, 0.5),
        p99Seconds: histogramQuantile(h, 0.99),
      });
    }
  });
  return links;
}

async function probeAll(targets: { name: string; url: string }[], options: { samples: number; intervalMs: number }, notes: string[]): Promise<LinkRtt[]> {
  return Promise.all(
    targets.map(async ({ name, url }) => {
      const { rtts, errors } = await probeRtts(url, options.samples, options.intervalMs, REQUEST_TIMEOUT_MS);
      if (errors.length > 0) notes.push(`${url}: ${errors.length} of ${options.samples} probes failed (${errors[0]})`);
      const sorted = rtts.sort((a, b) => a - b);
      return { from: 'this host', to: name, samples: sorted.length, medianSeconds: quantile(sorted, 0.5), p99Seconds: quantile(sorted, 0.99) };
    }),
  );
}

function render(r: TuneReport): string {
  const ms = (s: number) => (Number.isNaN(s) ? '-' : `${(s * 1000).toFixed(1)} ms`);
  const rows = r.links.map((l) => [`${l.from} -> ${l.to}`, String(l.samples), ms(l.medianSeconds), ms(l.p99Seconds)]);
  const header = ['link', 'samples', 'median', 'p99'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [
    `round-trip times (${r.source === 'metrics' ? `from the members' ${RTT_METRIC}` : 'probed from this host'}):`,
    `  ${line(header)}`,
    ...rows.map((row) => `  ${line(row)}`),
    '',
    `recommended: --heartbeat-interval=${r.recommendation.heartbeatMs} --election-timeout=${r.recommendation.electionMs}`,
    ...r.recommendation.reasons.map((x) => `  - ${x}`),
  ];
  if (r.current !== undefined) {
    const { heartbeatMs, electionMs, advice } = r.current;
    out.push('', `current --heartbeat-interval=${heartbeatMs} --election-timeout=${electionMs}: ${advice.safe ? 'safe' : 'AT RISK'}`);
    out.push(...advice.reasons.map((x) => `  - ${x}`));
  }
  if (r.notes.length > 0) out.push('', 'notes:', ...r.notes.map((n) => `  - ${n}`));
  return `${out.join('\n')}\n`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
