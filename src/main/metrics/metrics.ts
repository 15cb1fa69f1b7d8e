// A member's Prometheus metrics, served on /metrics: etcd's names where the meaning is the same,
// plus prom-client's process_* and nodejs_* defaults. One registry per member.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GrpcMetrics } from './grpc-metrics.js';
import { HealthMetrics } from './health-metrics.js';
import { registerMemberMetrics, type MemberMetricsSource } from './member-metrics.js';
import type { Logger } from '../log.js';
import { PeerRttMetrics } from './peer-rtt.js';
import { TimingSafety, type RaftTiming } from './timing-safety.js';

export interface MetricsSource extends MemberMetricsSource {
  /** Recent round-trip samples (seconds) to each peer. */
  peerRtts(): ReadonlyMap<bigint, readonly number[]>;
}

/** The peer transport keeps 16 samples at one a second: poll well within that. */
const RTT_POLL_MS = 5000;

export class MemberMetrics {
  private readonly registry = new Registry();
  readonly grpc: GrpcMetrics;
  readonly health: HealthMetrics;
  private readonly rttTimer: NodeJS.Timeout;

  constructor(member: MetricsSource, timing: RaftTiming, log: Logger) {
    collectDefaultMetrics({ register: this.registry });
    registerMemberMetrics(this.registry, member);
    this.grpc = new GrpcMetrics(this.registry);
    this.health = new HealthMetrics(this.registry);
    const rtt = new PeerRttMetrics(this.registry, () => member.peerRtts());
    const safety = new TimingSafety(this.registry, timing, log);
    this.rttTimer = setInterval(() => {
      rtt.poll();
      safety.check(member.peerRtts());
    }, RTT_POLL_MS);
    this.rttTimer.unref();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    clearInterval(this.rttTimer);
  }
}
