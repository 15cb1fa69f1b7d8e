// Says when this member's --heartbeat-interval / --election-timeout are unsafe for the round-trip
// times it measures to its peers (tune/advice.ts judges, after etcd's tuning guide): a warning in
// its log each time they become unsafe, and the gauge tsetcd_server_raft_timing_unsafe (1 while
// unsafe) in /metrics. etcd has no such metric, hence the tsetcd_ prefix.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { timingAdvice } from '../tune/advice.js';

export interface RaftTiming {
  heartbeatMs: number;
  electionMs: number;
}

export class TimingSafety {
  private readonly gauge: Gauge;
  private unsafe = false;

  constructor(
    registry: Registry,
    private readonly timing: RaftTiming,
    private readonly log: Logger,
  ) {
    this.gauge = new Gauge({
      name: 'tsetcd_server_raft_timing_unsafe',
      help: '1 while --heartbeat-interval/--election-timeout are unsafe for the measured peer round-trip times (see `tsetcd tune`), else 0',
      registers: [registry],
    });
  }

  /** Judges the settings against the recent round-trip samples (seconds) to every peer. */
  check(rtts: ReadonlyMap<bigint, readonly number[]>): void {
    const { heartbeatMs, electionMs } = this.timing;
    const advice = timingAdvice([...rtts.values()].flat(), heartbeatMs, electionMs);
    this.gauge.set(advice.safe ? 0 : 1);
    if (!advice.safe && !this.unsafe) {
      this.log.warn({ heartbeatMs, electionMs, reasons: advice.reasons }, 'raft timing is unsafe for the measured peer round-trip times; run `tsetcd tune`');
    } else if (advice.safe && this.unsafe) {
      this.log.info({ heartbeatMs, electionMs }, 'raft timing is safe again for the measured peer round-trip times');
    }
    this.unsafe = !advice.safe;
  }
}
