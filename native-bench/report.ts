// Turns the samples of a run into the side-by-side table (medians, tsetcd/etcd ratio, CPU per
// 1,000 writes, peak RSS) and writes it with the raw samples to the results directory.
import fs from 'node:fs';
import path from 'node:path';
import type { ServerKind } from './cluster.js';
import type { Measurement, Metric, ScenarioKind } from './scenarios.js';

export interface Sample {
  server: ServerKind;
  /** 1-based. */
  repetition: number;
  /** 1 if this server ran first in its repetition (the order alternates between repetitions). */
  position: number;
  measurement?: Measurement;
  error?: string;
}

export interface ScenarioResult {
  kind: ScenarioKind;
  title: string;
  members: number;
  metrics: readonly Metric[];
  samples: Sample[];
}

export interface BenchRun {
  startedAt: string;
  finishedAt: string;
  command: string;
  settings: Record<string, unknown>;
  host: { cpus: number; node: string; loadAverageAtStart: number[] };
  scenarios: ScenarioResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const format = (value: number, digits: number): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** First line of an error, short enough for a table cell, with no '|' to break the row. */
const reason = (error: string): string => {
  const line = error.split('\n')[0]!.replaceAll('|', '/');
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
};

const okSamples = (samples: readonly Sample[]) =>
  samples.flatMap((s) => (s.measurement === undefined ? [] : [s.measurement]));

function metricMedian(samples: readonly Sample[], metric: Metric): number | undefined {
  const values = okSamples(samples).flatMap((m) => m.values[metric.key] ?? []);
  return values.length === 0 ? undefined : median(values);
}

/** A median, a PASS count, or why nothing was measured. */
function metricCell(samples: readonly Sample[], metric: Metric): string {
  const ok = okSamples(samples);
  if (samples.length === 0) return '—';
  if (ok.length === 0) return `failed: ${reason(samples.find((s) => s.error !== undefined)?.error ?? 'no result')}`;
  const values = ok.flatMap((m) => m.values[metric.key] ?? []);
  const partial = ok.length < samples.length ? ` (${ok.length}/${samples.length} runs ok)` : '';
  if (metric.verdict === true) return `${values.filter((v) => v === 1).length}/${values.length}${partial}`;
  return `${format(median(values), metric.digits)}${partial}`;
}

function ratioCell(etcd: readonly Sample[], tsetcd: readonly Sample[], metric: Metric): string {
  if (metric.verdict === true) return '';
  const e = metricMedian(etcd, metric);
  const t = metricMedian(tsetcd, metric);
  if (e === undefined || t === undefined || e === 0) return '—';
  return `${format(t / e, 2)}× (${metric.better} is better)`;
}

function usageCells(samples: readonly Sample[]): [string, string] {
  const ok = okSamples(samples).filter((m) => m.writes > 0);
  if (ok.length === 0) return ['—', '—'];
  return [
    format(median(ok.map((m) => (m.cpuSeconds / m.writes) * 1000)), 3),
    format(median(ok.map((m) => m.peakRssBytes / 2 ** 20)), 0),
  ];
}

export function renderTable(scenarios: readonly ScenarioResult[]): string {
  const rows = [
    '| scenario | metric | etcd median | tsetcd median | tsetcd/etcd | etcd CPU s per 1k writes | tsetcd CPU s per 1k writes | etcd peak RSS MiB | tsetcd peak RSS MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of scenarios) {
    const etcd = s.samples.filter((x) => x.server === 'etcd');
    const tsetcd = s.samples.filter((x) => x.server === 'tsetcd');
    const [etcdCpu, etcdRss] = usageCells(etcd);
    const [tsetcdCpu, tsetcdRss] = usageCells(tsetcd);
    s.metrics.forEach((metric, i) => {
      const first = i === 0;
      rows.push(
        `| ${first ? s.title : ''} | ${metric.label} | ${metricCell(etcd, metric)} | ${metricCell(tsetcd, metric)} | ${ratioCell(etcd, tsetcd, metric)} | ${first ? etcdCpu : ''} | ${first ? tsetcdCpu : ''} | ${first ? etcdRss : ''} | ${first ? tsetcdRss : ''} |`,
      );
    });
  }
  return rows.join('\n');
}

function renderSamples(scenarios: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const s of scenarios) {
    lines.push(`### ${s.title}`, '');
    for (const sample of s.samples) {
      const head = `- ${sample.server}, repetition ${sample.repetition} (ran ${sample.position === 1 ? 'first' : 'second'}): `;
      const m = sample.measurement;
      if (m === undefined) {
        lines.push(`${head}failed: ${reason(sample.error ?? 'no result')}`);
        continue;
      }
      const values = s.metrics.map((metric) => `${metric.label} ${(m.values[metric.key] ?? []).map((v) => format(v, metric.digits)).join(', ')}`);
      lines.push(
        `${head}${values.join('; ')}; server CPU ${format(m.cpuSeconds, 2)} s for ${format(m.writes, 0)} writes; peak RSS ${format(m.peakRssBytes / 2 ** 20, 0)} MiB`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderMarkdown(run: BenchRun): string {
  return [
    `# native-bench ${run.startedAt}`,
    '',
    `\`${run.command}\``,
    '',
    `Host: ${run.host.cpus} CPUs, Node ${run.host.node}, load average at start ${run.host.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}. ` +
      `Settings: ${JSON.stringify(run.settings)}.`,
    '',
    'Medians over all repetitions (failover: over every round of every repetition). ' +
      'CPU is user + system time of all server processes of the cluster while measured, divided by the writes they committed; ' +
      'peak RSS is the largest VmHWM of one server process.',
    '',
    renderTable(run.scenarios),
    '',
    '## Samples',
    '',
    renderSamples(run.scenarios),
  ].join('\n');
}

/** Writes <stamp>.json, <stamp>.md and latest.md into `dir`; returns the paths written. */
export function writeResults(dir: string, run: BenchRun): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const markdown = renderMarkdown(run);
  const files = [path.join(dir, `${stamp}.json`), path.join(dir, `${stamp}.md`), path.join(dir, 'latest.md')];
  fs.writeFileSync(files[0]!, `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(files[1]!, markdown);
  fs.writeFileSync(files[2]!, markdown);
  return files;
}
