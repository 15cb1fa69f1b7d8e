// `tsetcd tune`: the advice rules, /metrics histogram reading, and end to end on clusters behind
// the fault proxy with a known delay (probing tsetcd, reading real etcd's own RTT histograms).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recommendTimings, timingAdvice } from '../../src/main/tune/advice.js';
import { runTune } from '../../src/main/tune/cli.js';
import { histogramQuantile, parseHistograms } from '../../src/main/tune/metrics-text.js';
import { ProxiedCluster } from './proxied-cluster.js';

const link = (rttMs: number, p99Ms = rttMs * 1.1) => ({ from: 'a', to: 'b', samples: 50, medianSeconds: rttMs / 1000, p99Seconds: p99Ms / 1000 });

test('recommendations follow etcd tuning guide: defaults on a LAN, about one RTT and 10 RTTs on a WAN', () => {
  assert.deepEqual(pick(recommendTimings([link(0.2)])), { heartbeatMs: 100, electionMs: 1000 });
  assert.deepEqual(pick(recommendTimings([link(50, 60)])), { heartbeatMs: 100, electionMs: 1000 });
  assert.deepEqual(pick(recommendTimings([link(150, 170)])), { heartbeatMs: 150, electionMs: 1700 });
  assert.deepEqual(pick(recommendTimings([link(20), link(300, 340)])), { heartbeatMs: 300, electionMs: 3400 });
  const capped = recommendTimings([link(4000, 6000)]);
  assert.equal(capped.electionMs, 50000);
  assert.ok(capped.heartbeatMs * 5 <= capped.electionMs);
  assert.deepEqual(pick(recommendTimings([])), { heartbeatMs: 100, electionMs: 1000 });
});

function pick(r: { heartbeatMs: number; electionMs: number }) {
  return { heartbeatMs: r.heartbeatMs, electionMs: r.electionMs };
}

test('timingAdvice: safe on a LAN with defaults, at risk when the election timeout is under 10 RTTs', () => {
  assert.deepEqual(timingAdvice([0.0004, 0.0005, 0.0006], 100, 1000), { safe: true, reasons: [] });
  assert.deepEqual(timingAdvice([], 100, 1000), { safe: true, reasons: [] });
  const wan = timingAdvice([0.29, 0.3, 0.31, 0.35], 100, 1000);
  assert.equal(wan.safe, false);
  assert.match(wan.reasons.join('\n'), /under 10x the round-trip time/);
  assert.match(wan.reasons.join('\n'), /heartbeat interval 100 ms is under half/);
  const tuned = timingAdvice([0.29, 0.3, 0.31, 0.35], 300, 3500);
  assert.equal(tuned.safe, true, tuned.reasons.join('\n'));
  assert.equal(timingAdvice([0.001], 300, 1000).safe, false); // under 5 heartbeats
});

test('histograms from /metrics text: labels, buckets, quantiles', () => {
  const text = [
    '# HELP etcd_network_peer_round_trip_time_seconds Round-Trip-Time histogram between peers',
    '# TYPE etcd_network_peer_round_trip_time_seconds histogram',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.0256"} 0',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.0512"} 10',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.1024"} 20',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="+Inf"} 20',
    'etcd_network_peer_round_trip_time_seconds_sum{To="8e9e05c52164694d"} 1.1',
    'etcd_network_peer_round_trip_time_seconds_count{To="8e9e05c52164694d"} 20',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="91bc3c398fb3c146",le="+Inf"} 0',
    'etcd_network_peer_sent_bytes_total{To="91bc3c398fb3c146"} 5',
  ].join('\n');
  const hs = parseHistograms(text, 'etcd_network_peer_round_trip_time_seconds');
  assert.equal(hs.length, 2);
  const h = hs.find((x) => x.labels.To === '8e9e05c52164694d')!;
  assert.equal(h.count, 20);
  assert.ok(Math.abs(histogramQuantile(h, 0.5) - 0.0512) < 1e-9);
  assert.ok(Math.abs(histogramQuantile(h, 0.25) - 0.0384) < 1e-9);
  assert.ok(Number.isNaN(histogramQuantile(hs.find((x) => x.labels.To === '91bc3c398fb3c146')!, 0.5)));
});

function capture() {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } }, out: () => out, err: () => err };
}

test('tune sees a 300 ms RTT between tsetcd members, from /metrics (or probing without it) and by probing', async () => {
  const cluster = await ProxiedCluster.start(3, { flags: ['--heartbeat-interval=300', '--election-timeout=4000'], initialFaults: { delayMs: 150 } });
  try {
    const c = capture();
    const code = await runTune(['--endpoints', cluster.endpoints.join(','), '--samples', '5', '--interval-ms', '20', '--window-s', '3', '--json'], c.io);
    assert.equal(code, 0, c.err());
    const report = JSON.parse(c.out()) as { source: string; links: { samples: number; medianSeconds: number }[]; recommendation: { heartbeatMs: number; electionMs: number } };
    for (const l of report.links.filter((x) => x.samples > 0)) assert.ok(l.medianSeconds > 0.25 && l.medianSeconds < 0.55, JSON.stringify(report));
    assert.ok(report.recommendation.heartbeatMs >= 300 && report.recommendation.heartbeatMs <= 450, JSON.stringify(report));
    assert.ok(report.recommendation.electionMs >= 3000, JSON.stringify(report));
    const text = capture();
    await runTune(['--peer-urls', cluster.names.map((n) => cluster.proxy.advertisedUrl(n)).join(','), '--samples', '3', '--heartbeat-interval', '100', '--election-timeout', '1000'], text.io);
    assert.match(text.out(), /recommended: --heartbeat-interval=3\d0 --election-timeout=\d{4}/);
    assert.match(text.out(), /AT RISK/);
  } finally {
    await cluster.destroy();
  }
});

test('tune reads real etcd RTT histograms from /metrics', async () => {
  const cluster = await ProxiedCluster.start(3, { kind: 'etcd', initialFaults: { delayMs: 10 } });
  try {
    // etcd probes its peers every 4 s but records the round trip in the histogram every 30 s.
    let report: { source: string; links: { samples: number; medianSeconds: number }[] } | undefined;
    for (let i = 0; i < 60; i++) {
      const c = capture();
      await runTune(['--endpoints', cluster.endpoints.join(','), '--json'], c.io);
      report = JSON.parse(c.out()) as typeof report;
      if (report!.source === 'metrics' && report!.links.some((l) => l.samples > 0)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(report!.source, 'metrics', JSON.stringify(report));
    assert.equal(report!.links.length, 6);
    // No check of the figures: etcd observes a smoothed RTT that starts from zero (probing's
    // EWMA), so its first samples are far below the real round trip.
    assert.ok(report!.links.every((l) => l.medianSeconds > 0 && l.medianSeconds < 1), JSON.stringify(report));
  } finally {
    await cluster.destroy();
  }
});

/** The value of tsetcd_server_raft_timing_unsafe on a member, once its first judgement is in. */
async function timingUnsafe(clientUrl: string, expected: number, timeoutMs = 30000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = NaN;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${clientUrl}/metrics`)).text();
    value = Number(/^tsetcd_server_raft_timing_unsafe (\S+)$/m.exec(text)?.[1] ?? NaN);
    if (value === expected) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return value;
}

test('a member says so in its log and /metrics when its timing is unsafe for the RTT it measures, and not when it is tuned', async () => {
  // 150 ms round trips: etcd's defaults (100 / 1000 ms) are under 10 round trips; 150 / 3000 ms
  // are not, with room for this machine's scheduling noise on top.
  const defaults = await ProxiedCluster.start(3, { initialFaults: { delayMs: 75 } });
  try {
    const m1 = defaults.member('m1');
    assert.equal(await timingUnsafe(m1.clientUrl, 1), 1);
    const warning = m1.log.split('\n').find((line) => line.includes('raft timing is unsafe for the measured peer round-trip times'));
    assert.match(warning ?? '', /under 10x the round-trip time/, m1.log);
  } finally {
    await defaults.destroy();
  }
  const tuned = await ProxiedCluster.start(3, { flags: ['--heartbeat-interval=150', '--election-timeout=3000'], initialFaults: { delayMs: 75 } });
  try {
    const m1 = tuned.member('m1');
    // Give it two judgements' time with RTT samples in.
    await new Promise((r) => setTimeout(r, 11000));
    assert.equal(await timingUnsafe(m1.clientUrl, 0), 0);
    assert.doesNotMatch(m1.log, /raft timing is unsafe/);
  } finally {
    await tuned.destroy();
  }
});
