// The member's etcd metrics with etcd's names, help texts, types and buckets: leadership,
// proposals, the WAL's fsync latency and the store's size and revision. Gauges are read from
// the member when scraped; the fsync histogram is fed by the WAL thread's reports.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What these metrics read from the member. */
export interface MemberMetricsSource {
  readonly leader: bigint;
  readonly isLeader: boolean;
  readonly leaderChangesSeen: number;
  /** Raft's commit and applied indexes, proposals waiting to be applied, proposals failed so far. */
  proposalStats(): { committed: number; applied: number; pending: number; failed: number };
  readonly mvcc: { readonly currentRevision: number; dbSizeBytes(): Promise<number> };
  /** Where the WAL reports each group commit's fsync time. */
  readonly walStats: { onFsync?: (seconds: number) => void };
}

/** etcd's WAL fsync buckets: 1 ms doubling, 14 of them. */
const FSYNC_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

export function registerMemberMetrics(registry: Registry, member: MemberMetricsSource): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });

  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (member.leader !== 0n ? 1 : 0));
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (member.isLeader ? 1 : 0));
  let changesReported = 0;
  new Counter({
    name: 'etcd_server_leader_changes_seen_total',
    help: 'The number of leader changes seen.',
    registers,
    collect() {
      this.inc(member.leaderChangesSeen - changesReported);
      changesReported = member.leaderChangesSeen;
    },
  });
  // etcd reports the commit and applied indexes under these names, as gauges.
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => member.proposalStats().committed);
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => member.proposalStats().applied);
  gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => member.proposalStats().pending);
  let failedReported = 0;
  new Counter({
    name: 'etcd_server_proposals_failed_total',
    help: 'The total number of failed proposals seen.',
    registers,
    collect() {
      const failed = member.proposalStats().failed;
      this.inc(failed - failedReported);
      failedReported = failed;
    },
  });

  const fsync = new Histogram({
    name: 'etcd_disk_wal_fsync_duration_seconds',
    help: 'The latency distributions of fsync called by WAL.',
    buckets: FSYNC_BUCKETS,
    registers,
  });
  member.walStats.onFsync = (seconds) => fsync.observe(seconds);

  for (const name of ['etcd_mvcc_db_total_size_in_bytes', 'etcd_debugging_mvcc_db_total_size_in_bytes']) {
    new Gauge({
      name,
      help: 'Total size of the underlying database physically allocated in bytes.',
      registers,
      async collect() {
        this.set(await member.mvcc.dbSizeBytes());
      },
    });
  }
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => member.mvcc.currentRevision);
}
