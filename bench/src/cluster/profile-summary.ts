/**
 * Where a process spent its CPU: the top functions by self time of a V8
 * .cpuprofile (what `node --cpu-prof` writes). Used by the cluster bench
 * after a --cpu-prof run, and on its own:
 *   node bench/dist/src/cluster/profile-summary.js FILE.cpuprofile [--top N]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { printTable } from '../common';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds from the previous sample (the first: from startTime). */
  timeDeltas: number[];
}

interface ProfileSummary {
  sampledMs: number;
  /** Most self time first. */
  functions: Array<{ name: string; location: string; selfMs: number }>;
}

function summarizeProfile(file: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  // A sample lasts until the next one (DevTools' convention); the last one until endTime.
  const sampleTimes: number[] = [];
  let time = profile.startTime;
  for (const delta of profile.timeDeltas) sampleTimes.push((time += delta));
  const selfUs = new Map<string, { name: string; location: string; selfUs: number }>();
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    if (!frame) return;
    const location = frame.url ? `${frame.url.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}` : '';
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const entry = selfUs.get(key) ?? { name, location, selfUs: 0 };
    entry.selfUs += (sampleTimes[index + 1] ?? profile.endTime) - sampleTimes[index]!;
    selfUs.set(key, entry);
  });
  const functions = [...selfUs.values()].sort((a, b) => b.selfUs - a.selfUs).map(({ name, location, selfUs: us }) => ({ name, location, selfMs: us / 1000 }));
  return { sampledMs: (profile.endTime - profile.startTime) / 1000, functions };
}

function printProfileSummary(file: string, title: string, top: number): void {
  const summary = summarizeProfile(file);
  const shown = (location: string): string => (location.startsWith('/') ? path.relative(process.cwd(), location) : location);
  printTable(
    `${title}: top ${top} of ${summary.functions.length} functions by self time, ${(summary.sampledMs / 1000).toFixed(1)} s profiled (${file})`,
    ['function  where', 'self ms', 'self %'],
    summary.functions.slice(0, top).map((fn) => [`${fn.name}  ${shown(fn.location)}`.trimEnd(), fn.selfMs, `${((100 * fn.selfMs) / summary.sampledMs).toFixed(1)}%`]),
  );
}

/** Summaries of the profiles written into `dir` since `since`, named by the pid in their file names (CPU.<date>.<time>.<pid>.<tid>.<n>.cpuprofile). */
export function printProfileSummaries(dir: string, since: Date, names: Map<number, string>, top = 25): void {
  const files = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(dir, name))
    .filter((file) => fs.statSync(file).mtimeMs >= since.getTime());
  if (files.length === 0) console.log(`\nno .cpuprofile was written into ${dir}`);
  for (const file of files.sort()) {
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1]);
    printProfileSummary(file, names.get(pid) ?? `pid ${pid}`, top);
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt === -1 ? 25 : Number(args.splice(topAt, 2)[1]);
  if (args.length === 0 || !(top > 0)) {
    console.error('usage: node bench/dist/src/cluster/profile-summary.js FILE.cpuprofile... [--top N]');
    process.exit(2);
  }
  for (const file of args) printProfileSummary(file, path.basename(file), top);
}
