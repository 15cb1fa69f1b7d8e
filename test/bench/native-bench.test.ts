// Smoke test of the benchmark harness (native-bench/run.ts): its smallest run (1 member, a 5 s write
// loop of our own, once) against real etcd and tsetcd, checking that the output is well-formed.
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

  it('runs a 5-second 1-member write load on etcd and tsetcd and writes a well-formed table and JSON', { timeout: 60_000 }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'native-bench-test-'));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...nodeArgs, '--only=check-perf', '--members=1', '--load-seconds=5', '--runs=1', `--out=${out}`],
        { timeout: 55_000 },
      );
      const header = stdout.split('\n').find((l) => l.startsWith('| scenario |'));
      assert.ok(header, `no table header in:\n${stdout}`);
      const row = stdout.split('\n').find((l) => l.includes('1 member | throughput (writes/s) |'));
      assert.ok(row, `no throughput row in:\n${stdout}`);
      const cells = row.split('|').slice(1, -1);
      assert.equal(cells.length, header.split('|').slice(1, -1).length);
      // etcd median, tsetcd median, then CPU s per 1k writes and peak RSS for both.
      for (const i of [2, 3, 5, 6, 7, 8]) assert.ok(cellNumber(cells[i]!) > 0, `cell ${i} is not a positive number: ${row}`);
      assert.match(cells[4]!, /^\s*[\d.]+× /);

      const jsonFile = fs.readdirSync(out).find((f) => f.endsWith('.json'));
      assert.ok(jsonFile);
      const run = JSON.parse(fs.readFileSync(path.join(out, jsonFile), 'utf8')) as BenchRun;
      const samples = run.scenarios[0]!.samples;
      assert.deepEqual(samples.map((s) => s.server).sort(), ['etcd', 'tsetcd']);
      for (const s of samples) {
        const m = s.measurement;
        assert.ok(m, `${s.server} failed: ${s.error}`);
        assert.ok(m.values.writesPerSecond![0]! > 0 && m.writes > 0 && m.cpuSeconds > 0 && m.peakRssBytes > 0);
      }
      assert.ok(fs.readFileSync(path.join(out, 'latest.md'), 'utf8').includes(header));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
