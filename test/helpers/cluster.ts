// Cluster facts for tests, read through real etcdctl.
import { etcdctl } from './etcdctl.js';

export interface MemberStatus {
  endpoint: string;
  memberId: bigint;
  leader: bigint;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
}

/**
 * `etcdctl endpoint status -w json` over the given endpoints (comma-separated), or with --cluster
 * over every member the first endpoint lists; parsed with exact 64-bit ids.
 */
export async function clusterStatus(endpoints: string, cluster = false): Promise<MemberStatus[]> {
  const out = await etcdctl(endpoints, ['endpoint', 'status', ...(cluster ? ['--cluster'] : []), '-w', 'json']);
  if (out.code !== 0) throw new Error(`endpoint status failed: ${out.stderr}`);
  // Quote the big integers before JSON.parse so they keep all 64 bits.
  const text = out.stdout.replace(/"(member_id|leader|cluster_id)":(\d+)/g, '"$1":"$2"');
  const rows = JSON.parse(text) as {
    Endpoint: string;
    Status: { header: { member_id: string }; leader: string; raftTerm: number; raftIndex: number; raftAppliedIndex: number };
  }[];
  return rows.map((r) => ({
    endpoint: r.Endpoint.replace(/^https?:\/\//, ''),
    memberId: BigInt(r.Status.header.member_id),
    leader: BigInt(r.Status.leader),
    raftTerm: r.Status.raftTerm,
    raftIndex: r.Status.raftIndex,
    raftAppliedIndex: r.Status.raftAppliedIndex,
  }));
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
