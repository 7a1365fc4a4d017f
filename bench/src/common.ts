import * as fs from 'node:fs';
import * as path from 'node:path';

/** Helpers both storage benchmarks share: data dirs, timing loops, closed-loop writers, percentiles, tables, disk use. */

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

export const MB = 1024 * 1024;

/** Runs `run` on a fresh directory under `root`, removed when done. */
export async function withDir<T>(root: string, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(root, 'data-'));
  try {
    return await run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function timeMs(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export interface Latencies {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export function latencies(ms: number[]): Latencies {
  const sorted = Float64Array.from(ms).sort();
  return { count: ms.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

export interface SyncFloor {
  perSec: number;
  p50Us: number;
  p99Us: number;
  /** The process's CPU per write + sync, in the program and in the kernel. */
  userUsPerSync: number;
  systemUsPerSync: number;
}

/**
 * The disk's floor for one durable write, with no engine: `record` written at
 * `offsetOf(i)` of a file of `preallocated` zero bytes and synced, in a loop
 * for `seconds`. The file is removed after.
 */
export function measureSyncedWrites(
  file: string,
  preallocated: number,
  record: Buffer,
  seconds: number,
  offsetOf: (i: number) => number,
  sync: (fd: number) => void,
): SyncFloor {
  fs.writeFileSync(file, Buffer.alloc(preallocated));
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  const samples: number[] = [];
  const keepGoing = forSeconds(seconds);
  const cpuBefore = process.cpuUsage();
  while (keepGoing()) {
    const start = performance.now();
    fs.writeSync(fd, record, 0, record.length, offsetOf(samples.length));
    sync(fd);
    samples.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuBefore);
  fs.closeSync(fd);
  fs.rmSync(file);
  const { p50Ms, p99Ms } = latencies(samples);
  const totalMs = samples.reduce((sum, ms) => sum + ms, 0);
  const syncs = Math.max(1, samples.length);
  return {
    perSec: (samples.length * 1000) / totalMs,
    p50Us: p50Ms * 1000,
    p99Us: p99Ms * 1000,
    userUsPerSync: cpu.user / syncs,
    systemUsPerSync: cpu.system / syncs,
  };
}

export interface ClosedLoopRun extends Latencies {
  elapsedMs: number;
}

/**
 * Closed-loop writers: each waits for its write's ack before the next, as a
 * client waiting for its PUT does. Stops issuing once `keepGoing` says so.
 */
export async function runClosedLoop<K>(
  writers: number,
  keepGoing: () => boolean,
  nextRecord: () => [K, Buffer],
  write: (key: K, value: Buffer) => Promise<unknown>,
): Promise<ClosedLoopRun> {
  const samples: number[] = [];
  const start = performance.now();
  const writer = async (): Promise<void> => {
    while (keepGoing()) {
      const [key, value] = nextRecord();
      const issued = performance.now();
      await write(key, value);
      samples.push(performance.now() - issued);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const elapsedMs = performance.now() - start;
  return { ...latencies(samples), elapsedMs };
}

/** The median of repeated runs by `rate`, with the lowest and highest rate: a drifting disk's spread. */
export function medianRun<T>(runs: T[], rate: (run: T) => number): { median: T; min: number; max: number } {
  const byRate = [...runs].sort((a, b) => rate(a) - rate(b));
  return { median: byRate[Math.floor(byRate.length / 2)]!, min: rate(byRate[0]!), max: rate(byRate.at(-1)!) };
}
