// Turns the samples of a run into the side-by-side table (medians, tsetcd/etcd ratio, CPU per
// 1,000 operations, peak RSS) and writes it with the raw samples to the results directory, as
// JSON, Markdown and a self-contained HTML page with latency-by-percentile plots.
import fs from 'node:fs';
import path from 'node:path';
import type { JsHistogram } from 'hdr-histogram-js';
import { decodeHistogram, newHistogram } from '../src/main/bench/histogram.js';
import { escapeHtml, percentilePlot, REPORT_STYLE } from '../src/main/bench/report-html.js';
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
  /** The servers that can run the scenario, when not both; the others' cells read n/a. */
  servers?: readonly ServerKind[];
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

/** Operations the CPU is divided by: the committed writes unless the scenario counted others. */
const operations = (m: Measurement): number => m.ops ?? m.writes;

function usageCells(samples: readonly Sample[]): [string, string] {
  const ok = okSamples(samples).filter((m) => operations(m) > 0);
  if (ok.length === 0) return ['—', '—'];
  return [
    format(median(ok.map((m) => (m.cpuSeconds / operations(m)) * 1000)), 3),
    format(median(ok.map((m) => m.peakRssBytes / 2 ** 20)), 0),
  ];
}

const TABLE_HEADER = [
  'scenario',
  'metric',
  'etcd median',
  'tsetcd median',
  'tsetcd/etcd',
  'etcd CPU s per 1k ops',
  'tsetcd CPU s per 1k ops',
  'etcd peak RSS MiB',
  'tsetcd peak RSS MiB',
] as const;

/** The side-by-side table's body, one array of cells per row. */
function tableRows(scenarios: readonly ScenarioResult[]): string[][] {
  const rows: string[][] = [];
  for (const s of scenarios) {
    const supports = (server: ServerKind) => s.servers?.includes(server) ?? true;
    const etcd = s.samples.filter((x) => x.server === 'etcd');
    const tsetcd = s.samples.filter((x) => x.server === 'tsetcd');
    const [etcdCpu, etcdRss] = supports('etcd') ? usageCells(etcd) : ['n/a', 'n/a'];
    const [tsetcdCpu, tsetcdRss] = supports('tsetcd') ? usageCells(tsetcd) : ['n/a', 'n/a'];
    const both = supports('etcd') && supports('tsetcd');
    s.metrics.forEach((metric, i) => {
      const first = i === 0;
      rows.push([
        first ? s.title : '',
        metric.label,
        supports('etcd') ? metricCell(etcd, metric) : 'n/a',
        supports('tsetcd') ? metricCell(tsetcd, metric) : 'n/a',
        both ? ratioCell(etcd, tsetcd, metric) : '—',
        first ? etcdCpu : '',
        first ? tsetcdCpu : '',
        first ? etcdRss : '',
        first ? tsetcdRss : '',
      ]);
    });
  }
  return rows;
}

export function renderTable(scenarios: readonly ScenarioResult[]): string {
  const rows = [`| ${TABLE_HEADER.join(' | ')} |`, '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const cells of tableRows(scenarios)) rows.push(`| ${cells.join(' | ')} |`);
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
        `${head}${values.join('; ')}; server CPU ${format(m.cpuSeconds, 2)} s for ${format(m.writes, 0)} writes${m.ops !== undefined ? ` (${format(m.ops, 0)} ops)` : ''}; peak RSS ${format(m.peakRssBytes / 2 ** 20, 0)} MiB`,
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
      'CPU is user + system time of all server processes of the cluster while measured, divided by the writes they committed (bench-range: by the ranges served); ' +
      'peak RSS is the largest VmHWM of one server process.',
    '',
    renderTable(run.scenarios),
    '',
    '## Samples',
    '',
    renderSamples(run.scenarios),
  ].join('\n');
}

const SERVER_COLORS: Record<ServerKind, string> = { etcd: '#1f77b4', tsetcd: '#d62728' };

/** All of a server's latency samples in a scenario, over every repetition; undefined if it recorded none. */
function mergedLatency(samples: readonly Sample[]): JsHistogram | undefined {
  const encoded = okSamples(samples).flatMap((m) => (m.latencyHistogram === undefined ? [] : [m.latencyHistogram]));
  if (encoded.length === 0) return undefined;
  const total = newHistogram();
  for (const h of encoded) total.add(decodeHistogram(h));
  return total;
}

/** One self-contained page: the table, then each scenario's latency by percentile (where it kept histograms). */
export function renderHtml(run: BenchRun): string {
  const cell = (text: string, header = false) => (header ? `<th>${escapeHtml(text)}</th>` : `<td>${escapeHtml(text)}</td>`);
  const table = [
    '<table class="results">',
    `<tr>${TABLE_HEADER.map((h) => cell(h, true)).join('')}</tr>`,
    ...tableRows(run.scenarios).map((cells) => `<tr>${cells.map((c) => cell(c)).join('')}</tr>`),
    '</table>',
  ].join('\n');
  const plots = run.scenarios.flatMap((s, i) => {
    const series = (['etcd', 'tsetcd'] as const).flatMap((server) => {
      const histogram = mergedLatency(s.samples.filter((x) => x.server === server));
      return histogram === undefined ? [] : [{ histogram, color: SERVER_COLORS[server], label: `${server} (${histogram.totalCount.toLocaleString('en-US')} samples)` }];
    });
    if (series.length === 0) return [];
    return [`<h3>${escapeHtml(s.title)}</h3>`, percentilePlot(`latency-${i}`, `Latency by percentile: ${s.title}`, series)];
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>native-bench ${escapeHtml(run.startedAt)}</title>
<style>
${REPORT_STYLE}
table.results th, table.results td { border-bottom: 1px solid #ddd; padding: 3px 10px; }
table.results td:nth-child(n+3) { text-align: right; }
</style>
</head>
<body>
<h1>native-bench: tsetcd next to etcd</h1>
<p><code>${escapeHtml(run.command)}</code></p>
<p>${escapeHtml(`Started ${run.startedAt}, finished ${run.finishedAt}. Host: ${run.host.cpus} CPUs, Node ${run.host.node}, load average at start ${run.host.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}.`)}</p>
<p>Medians over all repetitions. CPU is user + system time of all server processes of the cluster while measured, per 1,000 committed writes (bench-range: ranges served); peak RSS is the largest VmHWM of one server process.</p>
${table}
<h2>Latency by percentile</h2>
${plots.length === 0 ? '<p>No scenario of this run kept latency histograms.</p>' : plots.join('\n')}
</body>
</html>
`;
}

/** Writes <stamp>.json, <stamp>.md, <stamp>.html and latest.md into `dir`; returns the paths written. */
export function writeResults(dir: string, run: BenchRun): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const markdown = renderMarkdown(run);
  const files = [path.join(dir, `${stamp}.json`), path.join(dir, `${stamp}.md`), path.join(dir, `${stamp}.html`), path.join(dir, 'latest.md')];
  fs.writeFileSync(files[0]!, `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(files[1]!, markdown);
  fs.writeFileSync(files[2]!, renderHtml(run));
  fs.writeFileSync(files[3]!, markdown);
  return files;
}
