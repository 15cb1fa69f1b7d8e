// Raft timing advice from measured round-trip times between members, after etcd's tuning guide
// (https://etcd.io/docs/v3.4/tuning/):
//  - heartbeat interval: about the round-trip time between members (0.5-1.5x), etcd's 100 ms
//    default as the floor (a shorter one costs CPU and traffic and buys nothing on a LAN);
//  - election timeout: at least 10x the round-trip time, to ride out the network's variance, and
//    at least 5x the heartbeat interval (etcd refuses less); at most 50000 ms.
// Pure functions: `tune` prints them, a member can call timingAdvice() periodically.

export const DEFAULT_HEARTBEAT_MS = 100;
export const DEFAULT_ELECTION_MS = 1000;
export const MAX_ELECTION_MS = 50000;
/** The election timeout should cover this many round trips (at the tail, p99). */
const RTTS_PER_ELECTION = 10;
/** etcd refuses an election timeout under 5 heartbeats; its default ratio is 10. */
const MIN_HEARTBEATS_PER_ELECTION = 5;
const HEARTBEATS_PER_ELECTION = 10;

/** The q-quantile (0..1) of ascending `sorted`, by linear interpolation; NaN if empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

const ms = (seconds: number): string => `${(seconds * 1000).toFixed(1)} ms`;
/** Up to a multiple of step; float noise (10 x 0.17 s = 1700.0000000000002 ms) does not count. */
const roundUp = (value: number, step: number): number => Math.ceil(value / step - 1e-9) * step;

export interface TimingAdvice {
  /** False when the settings put leader elections at risk (spurious elections, or a setting etcd refuses). */
  safe: boolean;
  /** Every finding, in words; empty when there is nothing to say. */
  reasons: string[];
}

/**
 * Judges heartbeat/election settings against round-trip samples (seconds, any peers). With no
 * samples there is nothing to judge: safe, no reasons.
 */
export function timingAdvice(rttSeconds: readonly number[], heartbeatMs: number, electionMs: number): TimingAdvice {
  const reasons: string[] = [];
  let safe = true;
  if (electionMs < MIN_HEARTBEATS_PER_ELECTION * heartbeatMs) {
    safe = false;
    reasons.push(`election timeout ${electionMs} ms is under ${MIN_HEARTBEATS_PER_ELECTION}x the heartbeat interval ${heartbeatMs} ms`);
  }
  const samples = rttSeconds.filter((s) => Number.isFinite(s) && s >= 0).sort((a, b) => a - b);
  if (samples.length === 0) return { safe, reasons };
  const p50 = quantile(samples, 0.5);
  const p99 = quantile(samples, 0.99);
  const minElectionMs = roundUp(RTTS_PER_ELECTION * p99 * 1000, 100);
  if (electionMs < minElectionMs) {
    safe = false;
    reasons.push(
      `election timeout ${electionMs} ms is under ${RTTS_PER_ELECTION}x the round-trip time (p99 ${ms(p99)}): ` +
        `a slow stretch of the network can start needless elections; use at least ${Math.min(minElectionMs, MAX_ELECTION_MS)} ms`,
    );
  }
  if (heartbeatMs < 0.5 * p50 * 1000) {
    reasons.push(`heartbeat interval ${heartbeatMs} ms is under half the round-trip time (p50 ${ms(p50)}): more traffic for no gain`);
  }
  if (minElectionMs > MAX_ELECTION_MS) {
    safe = false;
    reasons.push(`the round-trip time (p99 ${ms(p99)}) needs an election timeout above etcd's limit of ${MAX_ELECTION_MS} ms`);
  }
  return { safe, reasons };
}

export interface LinkRtt {
  /** The measuring member (or "this host" when probed from here). */
  from: string;
  to: string;
  samples: number;
  medianSeconds: number;
  p99Seconds: number;
}

export interface TimingRecommendation {
  heartbeatMs: number;
  electionMs: number;
  /** How the values follow from the measurements, one line each. */
  reasons: string[];
}

/** Recommended --heartbeat-interval and --election-timeout for the worst measured link. */
export function recommendTimings(links: readonly LinkRtt[]): TimingRecommendation {
  const measured = links.filter((l) => l.samples > 0);
  if (measured.length === 0) {
    return {
      heartbeatMs: DEFAULT_HEARTBEAT_MS,
      electionMs: DEFAULT_ELECTION_MS,
      reasons: ['no round-trip samples: keeping etcd defaults'],
    };
  }
  const median = Math.max(...measured.map((l) => l.medianSeconds));
  const p99 = Math.max(...measured.map((l) => l.p99Seconds));
  const reasons = [`slowest link: median round trip ${ms(median)}, p99 ${ms(p99)}`];
  let heartbeatMs = Math.max(DEFAULT_HEARTBEAT_MS, roundUp(median * 1000, 10));
  reasons.push(
    heartbeatMs === DEFAULT_HEARTBEAT_MS
      ? `heartbeat ${heartbeatMs} ms: etcd's default; the round trip is short enough that a shorter interval only costs CPU`
      : `heartbeat ${heartbeatMs} ms: about one round trip (etcd's guide: 0.5-1.5x the round-trip time)`,
  );
  const byRtt = roundUp(RTTS_PER_ELECTION * p99 * 1000, 100);
  const byHeartbeat = HEARTBEATS_PER_ELECTION * heartbeatMs;
  let electionMs = Math.max(DEFAULT_ELECTION_MS, byRtt, byHeartbeat);
  const why =
    electionMs === byRtt
      ? `${RTTS_PER_ELECTION}x the p99 round trip`
      : electionMs === byHeartbeat
        ? `${HEARTBEATS_PER_ELECTION}x the heartbeat (etcd's default ratio; it must be at least ${MIN_HEARTBEATS_PER_ELECTION}x)`
        : `etcd's default, already above ${RTTS_PER_ELECTION}x the p99 round trip`;
  reasons.push(`election timeout ${electionMs} ms: ${why}`);
  if (electionMs > MAX_ELECTION_MS) {
    electionMs = MAX_ELECTION_MS;
    heartbeatMs = Math.min(heartbeatMs, Math.floor(MAX_ELECTION_MS / MIN_HEARTBEATS_PER_ELECTION));
    reasons.push(`capped at etcd's maximum election timeout of ${MAX_ELECTION_MS} ms: this network is too slow for a safe Raft cluster`);
  }
  return { heartbeatMs, electionMs, reasons };
}
