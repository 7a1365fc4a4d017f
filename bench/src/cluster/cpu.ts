import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** The kinds of process whose CPU time a row reports (per 10k requests), besides this one's. */
export const PROCESS_KINDS = ['gate', 'leader', 'followers', 'zookeeper', 'baseline'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];

/** A process that serves a scenario, and what it is there (a kvserver or an etcd member is a leader or a follower). */
export interface Tracked {
  pid: number;
  kind: ProcessKind;
  /** A kvserver's base url, whose /metrics counts its group commits (commits.ts), and the token it wants. */
  metrics?: { baseUrl: string; token?: string };
}

/** CPU seconds per kind, and `client`: this process, the load generator. */
export type CpuSeconds = Partial<Record<ProcessKind, number>> & { client: number };

/** Clock ticks per second of /proc's times; asked once (it is 100 on Linux almost everywhere). */
let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const answer = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = answer > 0 ? answer : 100;
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in seconds, from /proc/<pid>/stat; 0 once it is gone. */
function processCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // The name in parentheses may hold spaces; fields 14 and 15 (utime, stime) count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** Starts counting; the returned function gives the CPU seconds each kind used since. */
export function startCpuMeter(processes: Tracked[]): () => CpuSeconds {
  const before = processes.map((tracked) => processCpuSeconds(tracked.pid));
  const clientBefore = process.cpuUsage();
  return () => {
    const client = process.cpuUsage(clientBefore);
    const used: CpuSeconds = { client: (client.user + client.system) / 1e6 };
    processes.forEach((tracked, index) => {
      // A process that exited meanwhile (a removed partition's replica) reads 0: its time is not counted, rather than subtracted.
      used[tracked.kind] = (used[tracked.kind] ?? 0) + Math.max(0, processCpuSeconds(tracked.pid) - before[index]!);
    });
    return used;
  };
}
