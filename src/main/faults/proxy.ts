// A userspace TCP proxy for the peer links of a cluster, with faults changeable while it runs.
//
// Addressing: one listening port per destination member ("route"). Each member advertises its
// route's port as its peer URL (--initial-advertise-peer-urls and --initial-cluster) and listens
// on its real port (--listen-peer-urls), so every peer connection to it crosses the proxy. The
// proxy learns the source member of each connection from the dialer's first bytes (identify.ts),
// which gives per-(source, destination) control with one port per member. On a connection from
// A to B, bytes A→B carry the faults of link A→B and bytes B→A (pongs, acks, etcd's stream
// responses) those of link B→A, so a link means the same whichever side dialed.
//
// Member ids map to names through the cluster token (ids are derived from the advertised URLs
// as etcd derives them) and, without a token, through the `to` field of the connections each
// route receives.
import net from 'node:net';
import { memberId } from '../server/ids.js';
import { SourceSniffer } from './identify.js';
import { FaultConfigError, isClear, NO_FAULTS, updateFaults, type LinkFaults, type PartitionMode } from './link-faults.js';
import { Pipe, type PipeContext, type PipeCounters } from './pipe.js';
import { SeededRandom } from './random.js';

/** The source of a connection whose dialer did not say who it is. */
export const UNKNOWN_SOURCE = '?';

export interface HostPort {
  host: string;
  port: number;
}

export interface ProxyRoute {
  /** The destination member's name. */
  name: string;
  /** Where the proxy listens for connections to this member (port 0: any free port). */
  listen: HostPort;
  /** The member's real peer address. */
  target: HostPort;
}

export interface FaultProxyOptions {
  routes: readonly ProxyRoute[];
  /** --initial-cluster-token of the cluster, to name sources from the first byte on. */
  clusterToken?: string;
  /** Seeds jitter, loss and random resets. */
  seed?: number;
}

/** Links to act on; a missing side means every member and unknown dialers ("?"). */
export interface LinkSelector {
  from?: string | readonly string[];
  to?: string | readonly string[];
}

export interface LinkReport {
  from: string;
  to: string;
  faults: LinkFaults;
  connections: number;
  forwardedBytes: number;
  droppedBytes: number;
  resets: number;
}

interface LinkStats extends PipeCounters {
  resets: number;
}

/** How long bytes that might still become a Hello or an HTTP head wait before going out unnamed. */
const SNIFF_WAIT_MS = 20;

const key = (from: string, to: string): string => `${from}>${to}`;

export class FaultProxy {
  private readonly faults = new Map<string, LinkFaults>();
  private readonly stats = new Map<string, LinkStats>();
  private readonly connections = new Set<ProxiedConnection>();
  private readonly names = new Map<bigint, string>();
  private readonly random: SeededRandom;
  private closed = false;

  private constructor(
    readonly routes: readonly ProxyRoute[],
    private readonly servers: readonly net.Server[],
    seed: number,
  ) {
    this.random = new SeededRandom(seed);
  }

  /** Listens on every route; a route with port 0 gets a free port (see `routes` for the ports). */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const names = new Set(options.routes.map((r) => r.name));
    if (names.size !== options.routes.length) throw new Error('fault proxy: route names must be distinct');
    if (names.has(UNKNOWN_SOURCE)) throw new Error(`fault proxy: ${UNKNOWN_SOURCE} is not a member name`);
    const servers: net.Server[] = [];
    const routes: ProxyRoute[] = [];
    let proxy: FaultProxy | undefined;
    try {
      for (const route of options.routes) {
        const server = net.createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (socket) => proxy?.accept(socket, route.name));
        servers.push(server);
        const port = await listen(server, route.listen);
        routes.push({ ...route, listen: { host: route.listen.host, port } });
      }
    } catch (e) {
      await Promise.all(servers.map(closeServer));
      throw e;
    }
    proxy = new FaultProxy(routes, servers, options.seed ?? (Math.random() * 2 ** 32) >>> 0);
    for (const r of routes) {
      if (options.clusterToken !== undefined) proxy.names.set(memberId([proxy.advertisedUrl(r.name)], options.clusterToken), r.name);
    }
    return proxy;
  }

  /** The peer URL member `name` advertises: its route's listening address. */
  advertisedUrl(name: string): string {
    const route = this.route(name);
    return `http://${route.listen.host}:${route.listen.port}`;
  }

  /** Sets (merges) faults on every selected link; throws FaultConfigError on a bad value. */
  setFaults(selector: LinkSelector, update: Partial<LinkFaults>): void {
    const links = this.select(selector);
    const next = links.map(([from, to]) => updateFaults(this.faultsOf(from, to), update));
    links.forEach(([from, to], i) => this.store(from, to, next[i]!));
    this.faultsChanged();
  }

  /** Cuts every link between members of different groups, both ways. Members in no group are untouched. */
  partition(groups: readonly (readonly string[])[], mode: Exclude<PartitionMode, 'none'> = 'drop'): void {
    for (const [i, a] of groups.entries()) {
      for (const [j, b] of groups.entries()) if (i !== j) this.setFaults({ from: a, to: b }, { partition: mode });
    }
  }

  /** Ends every partition; delays and other faults stay. */
  heal(): void {
    this.setFaults({}, { partition: 'none' });
  }

  /** Every link back to a plain relay. */
  clear(): void {
    this.faults.clear();
    this.faultsChanged();
  }

  /** Resets the selected links' connections now; returns how many. */
  resetConnections(selector: LinkSelector = {}): number {
    const wanted = new Set(this.select(selector).map(([from, to]) => key(from, to)));
    let n = 0;
    for (const c of [...this.connections]) {
      if (wanted.has(key(c.from(), c.to))) {
        c.reset('reset by request');
        n++;
      }
    }
    return n;
  }

  links(): LinkReport[] {
    const reports: LinkReport[] = [];
    for (const [from, to] of this.select({})) {
      const s = this.stats.get(key(from, to));
      const connections = [...this.connections].filter((c) => c.from() === from && c.to === to).length;
      if (s === undefined && connections === 0 && !this.faults.has(key(from, to))) continue;
      reports.push({
        from,
        to,
        faults: { ...this.faultsOf(from, to) },
        connections,
        forwardedBytes: s?.forwardedBytes ?? 0,
        droppedBytes: s?.droppedBytes ?? 0,
        resets: s?.resets ?? 0,
      });
    }
    return reports;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.connections]) c.reset('proxy closing');
    await Promise.all(this.servers.map(closeServer));
  }

  // ---- used by connections ----

  faultsOf(from: string, to: string): Readonly<LinkFaults> {
    return this.faults.get(key(from, to)) ?? NO_FAULTS;
  }

  counters(from: string, to: string): LinkStats {
    let s = this.stats.get(key(from, to));
    if (s === undefined) this.stats.set(key(from, to), (s = { forwardedBytes: 0, droppedBytes: 0, resets: 0 }));
    return s;
  }

  nameOf(id: bigint | undefined): string {
    return id === undefined ? UNKNOWN_SOURCE : (this.names.get(id) ?? UNKNOWN_SOURCE);
  }

  learn(id: bigint, name: string): void {
    if (!this.names.has(id)) this.names.set(id, name);
  }

  get randomSource(): SeededRandom {
    return this.random;
  }

  forget(c: ProxiedConnection): void {
    this.connections.delete(c);
  }

  private accept(client: net.Socket, to: string): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    const route = this.route(to);
    this.connections.add(new ProxiedConnection(this, client, route));
  }

  private route(name: string): ProxyRoute {
    const route = this.routes.find((r) => r.name === name);
    if (route === undefined) throw new Error(`fault proxy: no member ${name}`);
    return route;
  }

  private select(selector: LinkSelector): [string, string][] {
    const members = this.routes.map((r) => r.name);
    const list = (side: string | readonly string[] | undefined, all: string[]): string[] =>
      side === undefined ? all : typeof side === 'string' ? [side] : [...side];
    // An unnamed dialer is a source on its connection's way in and a destination on its way back.
    const froms = list(selector.from, [...members, UNKNOWN_SOURCE]);
    const tos = list(selector.to, [...members, UNKNOWN_SOURCE]);
    for (const name of [...froms, ...tos]) {
      if (name !== UNKNOWN_SOURCE && !members.includes(name)) throw new FaultConfigError(`no member ${name} (members: ${members.join(', ')})`);
    }
    const out: [string, string][] = [];
    for (const from of froms) for (const to of tos) if (from !== to) out.push([from, to]);
    return out;
  }

  private store(from: string, to: string, f: LinkFaults): void {
    if (isClear(f) && f.lossSpikeMs === 0) this.faults.delete(key(from, to));
    else this.faults.set(key(from, to), f);
  }

  private faultsChanged(): void {
    for (const c of [...this.connections]) c.faultsChanged();
  }
}

/** One dialer's connection to one member through the proxy. */
class ProxiedConnection {
  private fromId: bigint | undefined;
  private identified = false;
  private readonly sniffer = new SourceSniffer();
  private readonly early: Buffer[] = [];
  private sniffTimer: NodeJS.Timeout | undefined;
  private readonly upstream: net.Socket;
  private readonly up: Pipe;
  private readonly down: Pipe;
  private ended = false;

  constructor(
    private readonly proxy: FaultProxy,
    private readonly client: net.Socket,
    private readonly route: ProxyRoute,
  ) {
    const upstream = net.connect({ host: route.target.host, port: route.target.port, noDelay: true, allowHalfOpen: true });
    this.upstream = upstream;
    this.up = new Pipe(client, upstream, this.context(() => this.from(), () => this.to));
    this.down = new Pipe(upstream, client, this.context(() => this.to, () => this.from()));
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    upstream.on('data', (chunk: Buffer) => this.down.push(chunk));
    // A FIN passes through behind the bytes queued before it; an error resets both sides. A
    // closed socket can take nothing more, and a stream that lost bytes to a partition ends
    // with it (a real peer would time out).
    const ends: [net.Socket, Pipe, Pipe][] = [
      [client, this.up, this.down],
      [upstream, this.down, this.up],
    ];
    for (const [socket, from, into] of ends) {
      socket.on('error', () => this.reset('socket error'));
      socket.on('end', () => from.finish());
      socket.on('close', () => {
        if (client.destroyed && upstream.destroyed) return this.reset('closed');
        into.close();
        if (from.isBroken) this.reset('closed while partitioned');
        else from.finish();
      });
    }
    upstream.once('connect', () => client.resume());
  }

  get to(): string {
    return this.route.name;
  }

  from(): string {
    return this.proxy.nameOf(this.fromId);
  }

  faultsChanged(): void {
    // A stream that lost bytes to a 'drop' partition cannot continue once the link is back.
    const healed = (pipe: Pipe, from: string, to: string) => pipe.isBroken && this.proxy.faultsOf(from, to).partition !== 'drop';
    if (healed(this.up, this.from(), this.to) || healed(this.down, this.to, this.from())) {
      this.reset('partition healed on a broken stream');
      return;
    }
    this.up.faultsChanged();
    this.down.faultsChanged();
  }

  reset(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.sniffTimer);
    if (reason !== 'closed' && reason !== 'socket error') this.proxy.counters(this.from(), this.to).resets++;
    this.up.close();
    this.down.close();
    this.client.destroy();
    this.upstream.destroy();
    this.proxy.forget(this);
  }

  private fromClient(chunk: Buffer): void {
    if (this.identified) return this.up.push(chunk);
    this.early.push(chunk);
    const guess = this.sniffer.push(chunk);
    if (guess.kind === 'pending') {
      // A peer's Hello or request head comes in one write; a dialer that trickles bytes is not
      // held up for long.
      this.sniffTimer ??= setTimeout(() => this.identify(undefined), SNIFF_WAIT_MS);
      return;
    }
    this.identify(guess.kind === 'known' ? guess : undefined);
  }

  private identify(source: { from: bigint; to: bigint | undefined } | undefined): void {
    clearTimeout(this.sniffTimer);
    if (this.identified || this.ended) return;
    this.identified = true;
    if (source !== undefined) {
      this.fromId = source.from;
      if (source.to !== undefined) this.proxy.learn(source.to, this.to);
    }
    for (const c of this.early.splice(0)) this.up.push(c);
  }

  private context(from: () => string, to: () => string): PipeContext {
    return {
      faults: () => this.proxy.faultsOf(from(), to()),
      random: this.proxy.randomSource,
      counters: () => this.proxy.counters(from(), to()),
      reset: (reason) => this.reset(reason),
    };
  }
}

function listen(server: net.Server, at: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
