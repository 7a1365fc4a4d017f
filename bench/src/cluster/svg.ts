import type { Row } from './measure';

/** Hand-written SVG (no chart dependency): two horizontal bar charts, req/s and p99 per scenario. */

const WIDTH = 900;
const LABEL_WIDTH = 300;
const BAR_HEIGHT = 18;
const GAP = 6;
const TITLE_HEIGHT = 30;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatValue(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** A colour per group, so that baselines, gate, direct, variants and etcd stand apart. */
const COLOURS: Record<Row['group'], string> = {
  baseline: '#9c9c9c',
  gate: '#4e79a7',
  direct: '#59a14f',
  variant: '#f28e2b',
  etcd: '#b07aa1',
  connections: '#4e79a7',
  keys: '#4e79a7',
  reshard: '#e15759',
  rounds: '#76b7b2',
};

interface Bar {
  label: string;
  value: number;
  group: Row['group'];
}

function barChart(title: string, bars: Bar[], unit: string, top: number): { svg: string[]; height: number } {
  const max = Math.max(...bars.map((bar) => bar.value), 1e-9);
  const plotWidth = WIDTH - LABEL_WIDTH - 120;
  const svg = [`<text x="10" y="${top + 20}" font-size="15" font-weight="bold">${escape(title)}</text>`];
  bars.forEach((bar, index) => {
    const y = top + TITLE_HEIGHT + index * (BAR_HEIGHT + GAP);
    const width = Math.max(1, (bar.value / max) * plotWidth);
    svg.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 5}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLOURS[bar.group]}"/>`,
      `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 5}" font-size="12">${formatValue(bar.value)} ${unit}</text>`,
    );
  });
  return { svg, height: TITLE_HEIGHT + bars.length * (BAR_HEIGHT + GAP) + 20 };
}

/** The chart file: throughput, then p99 latency, of every row that ran. */
export function chartSvg(title: string, rows: Row[]): string {
  const ran = rows.filter((row) => !row.failure && row.reqPerSec !== undefined);
  const throughput = barChart('Throughput (req/s)', ran.map((row) => ({ label: row.name, value: row.reqPerSec!, group: row.group })), 'req/s', 40);
  const latency = barChart('p99 latency (ms)', ran.map((row) => ({ label: row.name, value: row.latencyMs!.p99, group: row.group })), 'ms', 40 + throughput.height);
  const height = 40 + throughput.height + latency.height;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="16">${escape(title)}</text>`,
    ...throughput.svg,
    ...latency.svg,
    '</svg>',
    '',
  ].join('\n');
}
