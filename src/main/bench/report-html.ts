// --report: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched) with
// the summary, latency by percentile on HdrHistogram's log-scaled percentile axis, and
// throughput over time.

import type { JsHistogram } from 'hdr-histogram-js';
import { latencyStats, percentileCurve } from './histogram.js';
import type { RunResult } from './run-result.js';

const WIDTH = 760;
const HEIGHT = 320;
const MARGIN = { left: 70, right: 20, top: 20, bottom: 50 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round step giving about `ticks` ticks from 0 to max. */
function niceStep(max: number, ticks = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw)! * magnitude;
  return step;
}

const fmt = (n: number) => String(Number(n.toPrecision(6)));

interface Series {
  readonly points: readonly { readonly x: number; readonly y: number }[];
  readonly color: string;
  readonly label: string;
}

interface Axis {
  readonly max: number;
  readonly ticks: readonly { readonly at: number; readonly label: string }[];
  readonly title: string;
}

function chart(id: string, title: string, x: Axis, y: Axis, series: readonly Series[]): string {
  const sx = (v: number) => MARGIN.left + (x.max > 0 ? (v / x.max) * PLOT_W : 0);
  const sy = (v: number) => MARGIN.top + PLOT_H - (y.max > 0 ? (v / y.max) * PLOT_H : 0);
  const parts: string[] = [];
  parts.push(`<svg id="${id}" class="chart" font-family="sans-serif" font-size="11" fill="#444" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<title>${escapeHtml(title)}</title>`);
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`);
  for (const t of y.ticks) {
    const py = sy(t.at).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${py}" y2="${py}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(t.label)}</text>`);
  }
  for (const t of x.ticks) {
    const px = sx(t.at).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${px}" y="${MARGIN.top + PLOT_H + 16}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`);
  parts.push(`<text font-size="12" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(x.title)}</text>`);
  parts.push(`<text font-size="12" transform="translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(y.title)}</text>`);
  series.forEach((s, i) => {
    const points = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="series" fill="none" stroke="${s.color}" stroke-width="2" points="${points}"><title>${escapeHtml(s.label)}</title></polyline>`);
    parts.push(`<text x="${MARGIN.left + 10}" y="${MARGIN.top + 16 + i * 16}" fill="${s.color}">${escapeHtml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function linearAxis(max: number, title: string, unit = ''): Axis {
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push({ at: v, label: `${fmt(v)}${unit}` });
  return { max: top, ticks, title };
}

/** x = log10(1 / (1 - p)): 0% at 0, 90% at 1, 99% at 2, ... */
const percentileX = (percentile: number) => -Math.log10(1 - percentile / 100);

/** The reports' CSS (inline, so a report is one self-contained file). */
export const REPORT_STYLE = `body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 2px 12px 2px 0; font-weight: normal; }
th { color: #555; }`;

export interface PercentileSeries {
  readonly histogram: JsHistogram;
  readonly label: string;
  readonly color: string;
}

/** Latency by percentile of one or more histograms, on HdrHistogram's log-scaled percentile axis (an inline SVG). */
export function percentilePlot(id: string, title: string, series: readonly PercentileSeries[]): string {
  const curves = series.map((s) => ({ ...s, points: percentileCurve(s.histogram).map((p) => ({ x: percentileX(p.percentile), y: p.secs * 1000 })) }));
  const all = curves.flatMap((c) => c.points);
  const xMax = Math.max(1, Math.ceil(Math.max(0, ...all.map((p) => p.x))));
  // 0%, 90%, 99%, 99.9%, ...: written out, as rounding 99.99...9 would give 100.
  const xTicks = Array.from({ length: xMax + 1 }, (_, d) => ({ at: d, label: d === 0 ? '0%' : d === 1 ? '90%' : `99${d > 2 ? `.${'9'.repeat(d - 2)}` : ''}%` }));
  return chart(id, title, { max: xMax, ticks: xTicks, title: 'percentile' }, linearAxis(Math.max(0, ...all.map((p) => p.y)), 'latency (ms)'), curves);
}

function latencyByPercentile(run: RunResult): string {
  return percentilePlot('latency-by-percentile', 'Latency by percentile', [{ histogram: run.histogram, color: '#1f77b4', label: 'latency' }]);
}

function throughputOverTime(run: RunResult): string {
  const requests = run.seconds.map((s) => ({ x: s.second + 0.5, y: s.histogram.totalCount }));
  const errors = run.seconds.map((s) => ({ x: s.second + 0.5, y: s.errors }));
  const series: Series[] = [{ points: requests, color: '#2ca02c', label: 'completed per second' }];
  if (run.errorCount > 0) series.push({ points: errors, color: '#d62728', label: 'errors per second' });
  const yMax = Math.max(0, ...requests.map((p) => p.y), ...errors.map((p) => p.y));
  return chart('throughput', 'Throughput over time', linearAxis(Math.max(1, run.seconds.length), 'time (s)'), linearAxis(yMax, 'per second'), series);
}

function table(rows: readonly (readonly [string, string])[]): string {
  return `<table>\n${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}\n</table>`;
}

export function htmlReport(run: RunResult, commandLine: string): string {
  const stats = latencyStats(run.histogram);
  const s = (secs: number) => `${(secs * 1000).toFixed(3)} ms`;
  const o = run.options;
  const summary: [string, string][] = [
    ['Command', commandLine],
    ['Started', new Date(run.startEpochMs).toISOString()],
    ['Endpoints', o.endpoints.map((e) => e.url).join(', ')],
    ['Connections / clients / threads', `${o.conns} / ${o.clients} / ${o.threads}`],
    ['Total', `${run.totalSecs.toFixed(3)} s`],
    ['Requests', String(run.histogram.totalCount)],
    ['Errors', String(run.errorCount)],
    ['Requests/sec', run.requestsPerSec.toFixed(1)],
    ['Fastest / average / slowest', `${s(stats.fastestSecs)} / ${s(stats.averageSecs)} / ${s(stats.slowestSecs)}`],
    ['Stddev', s(stats.stddevSecs)],
    ...stats.percentiles.map((p): [string, string] => [`p${p.percentile}`, s(p.secs)]),
    ['Generator CPU', `${run.generator.cpuPercentOfOneCore.toFixed(1)}% of one core`],
    ...[...run.counts].map(([name, n]): [string, string] => [name, String(n)]),
  ];
  const errors = run.errors.size === 0 ? '<p>None.</p>' : table([...run.errors].map(([message, n]) => [String(n), message]));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tsetcd bench ${escapeHtml(o.workload)}</title>
<style>
${REPORT_STYLE}
</style>
</head>
<body>
<h1>tsetcd bench ${escapeHtml(o.workload)}</h1>
${table(summary)}
<h2>Latency by percentile</h2>
${latencyByPercentile(run)}
<h2>Throughput over time</h2>
${throughputOverTime(run)}
<h2>Errors</h2>
${errors}
</body>
</html>
`;
}
