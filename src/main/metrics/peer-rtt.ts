// etcd_network_peer_round_trip_time_seconds{To}: a histogram per peer of the round trips the peer
// transport measures with its pings. The transport keeps a window of recent samples; each sample
// is observed once by finding where the window we saw last continues in the window now.
import { Histogram, type Registry } from 'prom-client';
import { idHex } from '../server/ids.js';

/** etcd's buckets: 0.1 ms doubling, 16 of them. */
const BUCKETS = Array.from({ length: 16 }, (_, i) => 0.0001 * 2 ** i);

export class PeerRttMetrics {
  private readonly histogram: Histogram<'To'>;
  private readonly seen = new Map<bigint, readonly number[]>();

  constructor(
    registry: Registry,
    private readonly samples: () => ReadonlyMap<bigint, readonly number[]>,
  ) {
    this.histogram = new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds',
      help: 'Round-Trip-Time histogram between peers',
      labelNames: ['To'],
      buckets: BUCKETS,
      registers: [registry],
      collect: () => this.poll(),
    });
  }

  /** Observes the samples that arrived since the last poll (call more often than the window fills). */
  poll(): void {
    for (const [peer, now] of this.samples()) {
      const fresh = now.slice(overlap(this.seen.get(peer) ?? [], now));
      for (const seconds of fresh) this.histogram.observe({ To: idHex(peer) }, seconds);
      this.seen.set(peer, now);
    }
  }
}

/** How many leading samples of `now` are the trailing samples of `before` (the window slid on). */
function overlap(before: readonly number[], now: readonly number[]): number {
  for (let n = Math.min(before.length, now.length); n > 0; n--) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = before[before.length - n + i] === now[i];
    if (same) return n;
  }
  return 0;
}
