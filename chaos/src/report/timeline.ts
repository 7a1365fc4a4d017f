import type { FaultEvent, History, HistoryOperation } from '../history';

export interface TimelineMarker {
  at: number;
  label: string;
}

export interface TimelineOptions {
  /** Partitions to draw, one lane each (default: those in the history). */
  partitions?: string[];
  /** Vertical lines: "workload ends", "final reads". */
  markers?: TimelineMarker[];
  /** Seconds per bar (default 1). */
  bucketS?: number;
  title?: string;
}

const COLOURS = { ok: '#2e9e44', fail: '#d7301f', unknown: '#f39c12' } as const;
const FAULT_COLOURS: Record<string, string> = {
  kill: '#e41a1c',
  pause: '#984ea3',
  gate: '#377eb8',
  zk: '#ff7f00',
  'zk-member': '#fdbf6f',
  partition: '#a65628',
  forge: '#4daf4a',
  transfer: '#1b9e77',
  maintenance: '#7570b3',
};

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A timeline of the run, by hand (no dependency): time across; one lane per
 * partition with its operations per second by completion time, stacked ok
 * (green), fail (red), unknown (orange, at invocation); faults as shaded bands
 * on the lanes they hit (every lane for gate and ZooKeeper faults), labelled
 * with kind and target.
 */
export function renderTimeline(history: History, options: TimelineOptions = {}): string {
  const bucketMs = (options.bucketS ?? 1) * 1000;
  const partitions = options.partitions ?? [...new Set(history.operations.map((op) => op.partition ?? '?'))].sort();
  const start = history.startedAt;
  const end = Math.max(history.endedAt, start + 1000);
  const buckets = Math.ceil((end - start) / bucketMs);
  const counts = new Map<string, { ok: number; fail: number; unknown: number }[]>();
  for (const partition of partitions) counts.set(partition, Array.from({ length: buckets }, () => ({ ok: 0, fail: 0, unknown: 0 })));
  const bucketOf = (op: HistoryOperation): number => Math.min(buckets - 1, Math.max(0, Math.floor(((op.completedAt ?? op.invokedAt) - start) / bucketMs)));
  for (const op of history.operations) {
    const lane = counts.get(op.partition ?? '?');
    if (lane) lane[bucketOf(op)][op.outcome]++;
  }
  let max = 1;
  for (const lane of counts.values()) for (const bucket of lane) max = Math.max(max, bucket.ok + bucket.fail + bucket.unknown);

  const left = 70;
  const right = 20;
  const top = 50;
  const laneHeight = 160;
  const laneGap = 30;
  const width = Math.max(900, Math.min(4000, left + right + buckets * 8));
  const plotWidth = width - left - right;
  const height = top + partitions.length * (laneHeight + laneGap) + 60;
  const x = (t: number): number => left + ((t - start) / (end - start)) * plotWidth;
  const perSecond = 1000 / bucketMs;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escape(options.title ?? 'chaos run')}</text>`);
  const legend = [
    ['ok', COLOURS.ok],
    ['fail', COLOURS.fail],
    ['unknown', COLOURS.unknown],
  ];
  legend.forEach(([label, colour], index) => {
    const lx = left + index * 90;
    parts.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${colour}"/><text x="${lx + 14}" y="39">${label} ops/s</text>`);
  });
  Object.entries(FAULT_COLOURS).forEach(([kind, colour], index) => {
    const lx = left + 300 + index * 90;
    parts.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${colour}" fill-opacity="0.25" stroke="${colour}"/><text x="${lx + 14}" y="39">${kind}</text>`);
  });

  partitions.forEach((partition, laneIndex) => {
    const laneTop = top + laneIndex * (laneHeight + laneGap) + 20;
    const base = laneTop + laneHeight;
    const y = (value: number): number => base - (value / max) * laneHeight;
    parts.push(`<g class="lane" data-partition="${escape(partition)}">`);
    parts.push(`<text x="8" y="${laneTop + laneHeight / 2}" font-size="13" font-weight="bold">${escape(partition)}</text>`);
    parts.push(`<rect x="${left}" y="${laneTop}" width="${plotWidth}" height="${laneHeight}" fill="#fafafa" stroke="#ccc"/>`);
    // Fault bands, under the bars.
    const faults = history.faults.filter((fault) => fault.partition === undefined || fault.partition === partition);
    faults.forEach((fault: FaultEvent, index) => {
      const colour = FAULT_COLOURS[fault.kind] ?? '#777';
      const x0 = x(fault.startedAt);
      const x1 = Math.max(x0 + 2, x(fault.endedAt ?? end));
      parts.push(
        `<rect class="fault" x="${x0.toFixed(1)}" y="${laneTop}" width="${(x1 - x0).toFixed(1)}" height="${laneHeight}" fill="${colour}" fill-opacity="0.18" stroke="${colour}" stroke-opacity="0.6"><title>${escape(`${fault.kind} ${fault.target}: ${((fault.startedAt - start) / 1000).toFixed(1)}–${fault.endedAt ? ((fault.endedAt - start) / 1000).toFixed(1) : 'end'} s`)}</title></rect>`,
      );
      parts.push(`<text x="${(x0 + 2).toFixed(1)}" y="${laneTop + 11 + (index % 3) * 11}" fill="${colour}">${escape(`${fault.kind} ${fault.target}`)}</text>`);
    });
    // Stacked bars per bucket.
    const barWidth = Math.max(1, plotWidth / buckets - 1);
    counts.get(partition)?.forEach((bucket, index) => {
      const bx = (left + (index / buckets) * plotWidth).toFixed(1);
      let level = 0;
      for (const outcome of ['ok', 'fail', 'unknown'] as const) {
        const value = bucket[outcome];
        if (value === 0) continue;
        const y0 = y(level + value);
        parts.push(`<rect x="${bx}" y="${y0.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(level) - y0).toFixed(1)}" fill="${COLOURS[outcome]}"/>`);
        level += value;
      }
    });
    // Y axis: operations per second.
    for (const fraction of [0, 0.5, 1]) {
      const value = max * fraction;
      parts.push(`<text x="${left - 4}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end" fill="#555">${Math.round(value * perSecond)}</text>`);
    }
    parts.push(`</g>`);
  });

  // Time axis and markers.
  const axisY = top + partitions.length * (laneHeight + laneGap) + 20;
  const spanS = (end - start) / 1000;
  const step = spanS > 600 ? 60 : spanS > 200 ? 30 : spanS > 60 ? 10 : 5;
  for (let s = 0; s <= spanS; s += step) {
    const tx = x(start + s * 1000).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top + 20}" x2="${tx}" y2="${axisY}" stroke="#000" stroke-opacity="0.08"/>`);
    parts.push(`<text x="${tx}" y="${axisY + 14}" text-anchor="middle">${s} s</text>`);
  }
  for (const marker of options.markers ?? []) {
    const mx = x(marker.at).toFixed(1);
    parts.push(`<line x1="${mx}" y1="${top + 20}" x2="${mx}" y2="${axisY}" stroke="#333" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${mx}" y="${axisY + 28}" text-anchor="middle" fill="#333">${escape(marker.label)}</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
