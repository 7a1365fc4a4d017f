import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What the machine was, for the JSON: the numbers mean little without it (nor without what else ran on it: the load average as the run ends). */
export function machineInfo(): Record<string, string | number | number[]> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

/** `<out>/<YYYY-MM-DD>T<HHMMSS>-<suite>` (UTC): the stem of the JSON and SVG files of one run. */
export function resultsStem(outDir: string, startedAt: Date, suite: string): string {
  return path.join(outDir, `${startedAt.toISOString().slice(0, 19).replace(/:/g, '')}-${suite}`);
}

/** Writes <stem>.json and <stem>.svg; returns their paths, relative to the working directory when inside it. */
export function writeResults(stem: string, results: object, svg: string): string[] {
  fs.mkdirSync(path.dirname(stem), { recursive: true });
  fs.writeFileSync(`${stem}.json`, `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(`${stem}.svg`, svg);
  return [`${stem}.json`, `${stem}.svg`].map((file) => {
    const relative = path.relative(process.cwd(), file);
    return relative.startsWith('..') ? file : relative;
  });
}
