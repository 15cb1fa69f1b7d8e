// What a nemesis run checks once the faults are over and the cluster has converged, besides the
// linearizability of each key's history: every acknowledged write is in the store at the
// revision it was acknowledged with, revisions follow real time across keys, and every member
// holds the same history (HashKV at the same revision).
import { KvClient } from './kv-client.js';
import type { AckedWrite } from './workload.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Writes a barrier key through whichever member takes it, then waits until every member has
 * applied it. Resolves with the barrier's revision; rejects naming the members that lag.
 */
export async function converge(endpoints: readonly string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const value = `barrier-${Date.now()}`;
  let revision = 0;
  let lastError = '';
  for (let i = 0; revision === 0; i++) {
    if (Date.now() > deadline) throw new Error(`no member took the barrier write: ${lastError}`);
    const kv = new KvClient(endpoints[i % endpoints.length]!);
    try {
      revision = await kv.put('nemesis/barrier', value, 3000);
    } catch (e) {
      lastError = (e as Error).message;
      await sleep(200);
    } finally {
      kv.close();
    }
  }
  const lagging = new Set(endpoints);
  while (lagging.size > 0) {
    for (const url of [...lagging]) {
      const kv = new KvClient(url);
      try {
        if ((await kv.get('nemesis/barrier', 2000, true)).value === value) lagging.delete(url);
      } catch {
        // not serving yet
      } finally {
        kv.close();
      }
    }
    if (lagging.size === 0) break;
    if (Date.now() > deadline) throw new Error(`members did not catch up with revision ${revision}: ${[...lagging].join(', ')}`);
    await sleep(200);
  }
  return revision;
}

/** Every acknowledged write, read back at its revision; returns the lost ones, described. */
export async function lostWrites(endpoint: string, acked: readonly AckedWrite[]): Promise<string[]> {
  const lost: string[] = [];
  const kv = new KvClient(endpoint);
  try {
    for (let i = 0; i < acked.length; i += 32) {
      await Promise.all(
        acked.slice(i, i + 32).map(async (w) => {
          const found = await kv.getAt(w.key, w.revision, 5000);
          if (found !== w.value) lost.push(`${describe(w)}: the store has ${found === null ? 'nothing' : JSON.stringify(found)} there`);
        }),
      );
    }
  } finally {
    kv.close();
  }
  return lost;
}

/**
 * Real-time order of revisions across keys: a write acknowledged before another was called has
 * the smaller revision, and no two acknowledged writes share one.
 */
export function revisionOrderViolations(acked: readonly AckedWrite[]): string[] {
  const out: string[] = [];
  const byRevision = new Map<number, AckedWrite>();
  for (const w of acked) {
    const other = byRevision.get(w.revision);
    if (other !== undefined) out.push(`two writes acknowledged at one revision: ${describe(other)}; ${describe(w)}`);
    byRevision.set(w.revision, w);
  }
  const byReturn = [...acked].sort((a, b) => a.return - b.return);
  const byCall = [...acked].sort((a, b) => a.call - b.call);
  let j = 0;
  let latest: AckedWrite | undefined;
  for (const w of byCall) {
    while (j < byReturn.length && byReturn[j]!.return < w.call) {
      if (latest === undefined || byReturn[j]!.revision > latest.revision) latest = byReturn[j];
      j++;
    }
    if (latest !== undefined && latest.revision >= w.revision) {
      out.push(`revision order: ${describe(latest)} came back before ${describe(w)} was sent`);
    }
  }
  return out.slice(0, 20);
}

function describe(w: AckedWrite): string {
  return `${w.key}=${w.value} acknowledged at revision ${w.revision} by ${w.via} [${w.call.toFixed(0)}-${w.return.toFixed(0)} ms]`;
}

/** HashKV at `revision` on every member; returns the disagreements. */
export async function divergence(endpoints: readonly string[], revision: number): Promise<string[]> {
  const hashes = await Promise.all(
    endpoints.map(async (url) => {
      const kv = new KvClient(url);
      try {
        return (await kv.hashKV(revision, 10000)).hash;
      } catch (e) {
        return `error: ${(e as Error).message}`;
      } finally {
        kv.close();
      }
    }),
  );
  if (new Set(hashes).size <= 1) return [];
  return [`members disagree at revision ${revision}: ${endpoints.map((u, i) => `${u} ${String(hashes[i])}`).join(', ')}`];
}
