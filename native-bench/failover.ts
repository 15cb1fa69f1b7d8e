// Leader failover under a light steady write load: kill -9 the leader, then time (from the kill)
// until the first write started after the kill is acknowledged, and until a surviving member names
// a new leader. Writes go round-robin to every member, the dead one included (those fail at once),
// so the time is the cluster's, not a client's endpoint-switching policy. Between rounds the killed
// member is restarted and allowed to catch up.
import { performance } from 'node:perf_hooks';
import type { Cluster, ClusterMember } from './cluster.js';
import { startWriteLoad, type WriteLoadResult } from './write-load.js';

export interface FailoverOptions {
  rounds: number;
  writesPerSecond: number;
  /** Load before each kill, so the kill lands in steady state. */
  warmupMs: number;
  /** A round fails if either time exceeds this. */
  roundTimeoutMs: number;
}

export const DEFAULT_FAILOVER: FailoverOptions = { rounds: 3, writesPerSecond: 200, warmupMs: 1500, roundTimeoutMs: 30000 };

export interface FailoverRound {
  /** Kill → first acknowledged write that started after the kill. */
  writeRecoveryS: number;
  /** Kill → a surviving member reports a leader other than the killed one. */
  leaderVisibleS: number;
  killed: string;
  newLeader: string;
  load: WriteLoadResult;
}

// Each write's deadline. Writes a follower forwarded to the dead leader are never answered;
// the deadline frees their slot instead of letting them pile up.
const WRITE_TIMEOUT_MS = 2000;
const POLL_INTERVAL_MS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function measureFailover(cluster: Cluster, options: FailoverOptions): Promise<FailoverRound[]> {
  if (cluster.members.length < 3) throw new Error('failover needs at least 3 members');
  const rounds: FailoverRound[] = [];
  for (let i = 0; i < options.rounds; i++) {
    rounds.push(await failoverRound(cluster, options));
  }
  return rounds;
}

async function failoverRound(cluster: Cluster, options: FailoverOptions): Promise<FailoverRound> {
  let killedAt = Infinity;
  let firstAck: ((at: number) => void) | undefined;
  const acknowledgedAfterKill = new Promise<number>((resolve) => (firstAck = resolve));
  const load = startWriteLoad({
    endpoints: cluster.clientUrls,
    connections: cluster.members.length,
    ratePerSecond: options.writesPerSecond,
    concurrency: Math.ceil((options.writesPerSecond * WRITE_TIMEOUT_MS) / 1000) * 2,
    writeTimeoutMs: WRITE_TIMEOUT_MS,
    onWrite: (startedAt, endedAt, ok) => {
      if (ok && startedAt >= killedAt) firstAck?.(endedAt);
    },
  });
  const stopPolling = new AbortController();
  try {
    await sleep(options.warmupMs);
    const leader = await cluster.leader();
    killedAt = performance.now();
    await cluster.kill9(leader);
    const survivors = cluster.members.filter((m) => m !== leader);
    const [ackAt, visible] = await withTimeout(
      Promise.all([acknowledgedAfterKill, newLeaderVisible(survivors, leader.id, stopPolling.signal)]),
      options.roundTimeoutMs,
      `no new leader or no acknowledged write within ${options.roundTimeoutMs} ms of killing the leader`,
    );
    const loadResult = await load.stop();
    await cluster.restart(leader);
    return {
      writeRecoveryS: (ackAt - killedAt) / 1000,
      leaderVisibleS: (visible.at - killedAt) / 1000,
      killed: leader.name,
      newLeader: visible.leader.name,
      load: loadResult,
    };
  } finally {
    stopPolling.abort();
    await load.stop();
  }
}

/** Polls the survivors until one names a leader other than `oldLeaderId`; resolves with when and whom. */
async function newLeaderVisible(
  survivors: readonly ClusterMember[],
  oldLeaderId: string,
  signal: AbortSignal,
): Promise<{ at: number; leader: ClusterMember }> {
  let found: { at: number; leader: ClusterMember } | undefined;
  while (found === undefined) {
    if (signal.aborted) throw new Error('stopped polling for a new leader');
    await Promise.all(
      survivors.map(async (m) => {
        try {
          const s = await m.status(POLL_INTERVAL_MS * 10);
          const leader = survivors.find((c) => c.id === s.leaderId);
          if (found === undefined && s.leaderId !== oldLeaderId && leader !== undefined) found = { at: performance.now(), leader };
        } catch {
          // no answer while the member has no leader or is busy: keep polling
        }
      }),
    );
    if (found === undefined) await sleep(POLL_INTERVAL_MS);
  }
  return found;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
