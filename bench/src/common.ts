import * as fs from 'node:fs';
import * as path from 'node:path';

/** Helpers both storage benchmarks share: timing loops, percentiles, tables, disk use. */

export type Cell = string | number;

export function forSeconds(seconds: number): () => boolean {
  const deadline = performance.now() + seconds * 1000;
  return () => performance.now() < deadline;
}

export function formatCell(cell: Cell): string {
  if (typeof cell === 'string') return cell;
  if (Number.isInteger(cell) || Math.abs(cell) >= 100) return Math.round(cell).toLocaleString('en-US');
  return cell.toFixed(2);
}

export function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** 0..count-1 in random order. */
export function shuffled(count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export function printTable(title: string, header: string[], rows: Cell[][]): void {
  const text = [header, ...rows.map((row) => row.map(formatCell))];
  const widths = header.map((_, col) => Math.max(...text.map((row) => row[col]!.length)));
  const line = (row: string[]): string => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ');
  console.log(`\n${title}\n${line(text[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of text.slice(1)) console.log(line(row));
}

/** Allocated bytes (what `du` counts) and file lengths of everything in the data dir. */
export function diskUsage(dir: string): { allocated: number; apparent: number } {
  let allocated = 0;
  let apparent = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const stat = fs.statSync(path.join(dir, entry));
    if (!stat.isFile()) continue;
    allocated += stat.blocks * 512;
    apparent += stat.size;
  }
  return { allocated, apparent };
}
