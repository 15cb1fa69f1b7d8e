// Smoke test of the benchmark harness (native-bench/run.ts): its smallest run (1 member, once: a 3 s
// write loop of our own, 1 s bench put at full speed, at a fixed rate and over WebSocket, watch
// fan-out to 1,000 watchers) against real etcd and tsetcd, checking that the output is well-formed.
// Speed is measured, not asserted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseCheckPerf } from '../../native-bench/check-perf.js';
import { renderTable, type BenchRun } from '../../native-bench/report.js';

const self = fileURLToPath(import.meta.url);
// Compiled, this file is dist/test/bench/*.js next to dist/native-bench/run.js; under tsx, the .ts sources.
const ext = path.extname(self);
const runScript = path.join(path.dirname(self), '..', '..', 'native-bench', `run${ext}`);
const nodeArgs = ext === '.ts' ? ['--import', 'tsx', runScript] : [runScript];

const cellNumber = (cell: string): number => Number(cell.trim().replaceAll(',', ''));

describe('native-bench', () => {
  it('parses the summary etcdctl check perf prints after its progress bar', () => {
    const stdout =
      ' 0 / 60 B                                                  !   0.00%\r' +
      ' 60 / 60 Boooooooooooooooooooooooooooooooooooooooooooooooooooooo! 100.00% 1m0s\n' +
      'FAIL: Throughput too low: 5002 writes/s\n' +
      'PASS: Slowest request took 0.200372s\n' +
      'PASS: Stddev is 0.012345s\n' +
      'FAIL\n';
    assert.deepEqual(parseCheckPerf(stdout), { writesPerSecond: 5002, slowestS: 0.200372, stddevS: 0.012345, pass: false, errors: [] });
    assert.throws(() => parseCheckPerf(' 3 / 60 Booo!   5.00%\r'), /no check perf summary/);
  });

  it('shows a server that failed a scenario as failed: <reason> and still reports the other', () => {
    const table = renderTable([
      {
        kind: 'failover',
        title: 'failover, 3 members',
        members: 3,
        metrics: [{ key: 'writeRecoveryS', label: 'kill → next write acknowledged (s)', better: 'lower', digits: 2 }],
        samples: [
          { server: 'etcd', repetition: 1, position: 1, measurement: { values: { writeRecoveryS: [1.2, 1.4] }, writes: 1000, cpuSeconds: 2, peakRssBytes: 50 * 2 ** 20, details: null } },
          { server: 'tsetcd', repetition: 1, position: 2, error: 'tsetcd cluster of 3 not ready within 30000 ms\n--- m1 log tail ---' },
        ],
      },
    ]);
    const row = table.split('\n')[2]!;
    assert.equal(row, '| failover, 3 members | kill → next write acknowledged (s) | 1.30 | failed: tsetcd cluster of 3 not ready within 30000 ms | — | 2.000 | — | 50 | — |');
  });

  it('runs the smallest version of the write, bench, WebSocket and watch scenarios on etcd and tsetcd and writes well-formed results', { timeout: 75_000 }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'native-bench-test-'));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          ...nodeArgs,
          '--only=check-perf,bench-put,bench-rate,ws-put,watch-fanout',
          '--members=1',
          '--runs=1',
          '--load-seconds=3',
          '--bench-seconds=1',
          '--warmup-seconds=1',
          '--watchers=1000',
          '--watch-puts=100',
          '--watch-seconds=1',
          `--out=${out}`,
        ],
        { timeout: 70_000 },
      );
      const lines = stdout.split('\n');
      const header = lines.find((l) => l.startsWith('| scenario |'));
      assert.ok(header, `no table header in:\n${stdout}`);
      const columns = header.split('|').slice(1, -1).length;
      /** The cells of the first row of the scenario whose title contains `title`. */
      const firstRow = (title: string): string[] => {
        const row = lines.find((l) => l.startsWith('| ') && l.split('|')[1]!.includes(title));
        assert.ok(row, `no row for ${title} in:\n${stdout}`);
        const cells = row.split('|').slice(1, -1);
        assert.equal(cells.length, columns, row);
        return cells;
      };
      const positive = (cells: string[], indices: number[]) => {
        for (const i of indices) assert.ok(cellNumber(cells[i]!) > 0, `cell ${i} is not a positive number: ${cells.join('|')}`);
      };
      // Both servers: etcd median, tsetcd median, a ratio, then CPU s per 1k ops and peak RSS for both.
      for (const title of ['own write loop', 'bench put gRPC, 1000 clients', 'bench put gRPC at 2,000 writes/s', 'watch fan-out']) {
        const cells = firstRow(title);
        positive(cells, [2, 3, 5, 6, 7, 8]);
        assert.match(cells[4]!, /^\s*[\d.]+× /);
      }
      // WebSocket: tsetcd only, n/a for etcd and no ratio.
      const ws = firstRow('bench put WebSocket');
      positive(ws, [3, 6, 8]);
      for (const i of [2, 5, 7]) assert.equal(ws[i]!.trim(), 'n/a');
      assert.equal(ws[4]!.trim(), '—');
      for (const label of ['p50 latency (ms)', 'p99 latency (ms)', 'p99.9 latency (ms)', 'put→event p99 (ms)', 'every event once, in order', 'generator start lag p99 (ms)']) {
        assert.ok(lines.some((l) => l.includes(`| ${label} |`)), `no ${label} row in:\n${stdout}`);
      }

      const files = fs.readdirSync(out);
      const jsonFile = files.find((f) => f.endsWith('.json'));
      assert.ok(jsonFile);
      const run = JSON.parse(fs.readFileSync(path.join(out, jsonFile), 'utf8')) as BenchRun;
      assert.deepEqual(run.scenarios.map((s) => s.kind), ['check-perf', 'bench-put', 'bench-rate', 'ws-put', 'watch-fanout']);
      for (const scenario of run.scenarios) {
        assert.deepEqual(scenario.samples.map((s) => s.server).sort(), scenario.kind === 'ws-put' ? ['tsetcd'] : ['etcd', 'tsetcd']);
        for (const s of scenario.samples) {
          const m = s.measurement;
          assert.ok(m, `${scenario.kind} on ${s.server} failed: ${s.error}`);
          assert.ok(m.writes > 0 && m.cpuSeconds > 0 && m.peakRssBytes > 0, `${scenario.kind} on ${s.server}: ${JSON.stringify({ ...m, details: undefined })}`);
          if (scenario.kind !== 'check-perf') assert.ok(m.latencyHistogram !== undefined, `${scenario.kind} on ${s.server} kept no latency histogram`);
        }
      }
      assert.ok(fs.readFileSync(path.join(out, 'latest.md'), 'utf8').includes(header));
      const htmlFile = files.find((f) => f.endsWith('.html'));
      assert.ok(htmlFile, `no HTML report in ${files.join(', ')}`);
      const html = fs.readFileSync(path.join(out, htmlFile), 'utf8');
      assert.match(html, /<table class="results">[\s\S]*bench put WebSocket[\s\S]*<\/table>/);
      // One plot per scenario with histograms (all but the own write loop), etcd and tsetcd in each but ws-put.
      assert.equal(html.match(/<svg id="latency-\d+"/g)?.length, 4);
      assert.equal(html.match(/<polyline/g)?.length, 7);
      assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
