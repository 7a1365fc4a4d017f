import { requestsPerCommit, startCommitMeter, type RequestsPerCommit } from './commits';
import { startCpuMeter, type CpuSeconds, type Tracked } from './cpu';
import type { SendThrough } from './client-load';
import { runLoad, type Access, type LoadResult, type RequestShape } from './load';

/** Where a load goes: a base url and what it takes to be let in; with `send`, a client library sends it (from that url). */
export interface Endpoint {
  url: string;
  access?: Access;
  send?: SendThrough;
}

/** What a scenario loads: an endpoint, and the processes whose CPU time it costs. */
export interface Target extends Endpoint {
  tracked(): Promise<Tracked[]>;
}

/** The sections of the report; `connections` and `keys` make the scaling figure; `reshard`: the phases of the resharding scenario; `rounds`: interleaved rounds (rounds.ts). */
export type Group = 'baseline' | 'gate' | 'direct' | 'variant' | 'etcd' | 'connections' | 'keys' | 'reshard' | 'rounds';

export interface Scenario {
  name: string;
  group: Group;
  target: Target;
  next: () => RequestShape;
  connections: number;
  durationS: number;
  /** Names of the rows its req/s is compared with: a node:http baseline, and etcd's 3-member cluster. */
  comparedWith?: { baseline?: string; etcd?: string };
  /** For the `keys` rows: keys the cluster holds, and how many of them were written for this row, in how long. */
  keys?: { count: number; loaded: number; loadSeconds: number };
  /** For the `rounds` rows: the comparison, the entrant and the round (from 1) it was measured in. */
  round?: { comparison: string; entrant: string; number: number };
}

/** This row's req/s over another's: `against` is that row's name. */
export interface Ratio {
  against: string;
  value: number;
}

export interface Row extends Omit<Scenario, 'target' | 'next'>, Partial<LoadResult> {
  cpuSeconds?: CpuSeconds;
  /** CPU seconds per 10,000 requests, by process kind. */
  cpuPer10k?: CpuSeconds;
  /** Requests per group commit of one replica, leader and followers (kvservers only): how far writes were batched. */
  requestsPerCommit?: RequestsPerCommit;
  /** Set once every row is in (etcd's come last): against the node:http baseline, and against etcd. */
  ratio?: Ratio;
  etcdRatio?: Ratio;
  /** `reshard` rows: the latency of the PUTs and DELETEs alone. */
  writeLatencyMs?: LoadResult['latencyMs'];
  /** `reshard` rows: the errors by kind ("PUT 503 UNAVAILABLE", "no answer"). */
  errorCodes?: Record<string, number>;
  /** `reshard` rows: of the errors, the 503s of a request whose wait for a slot being cut over ran out. */
  cutoverWaits?: number;
  /** Why it did not run; the bench then exits non-zero. */
  failure?: string;
}

export function per10k(cpu: CpuSeconds, requests: number): CpuSeconds {
  return Object.fromEntries(Object.entries(cpu).map(([kind, seconds]) => [kind, (seconds * 10_000) / requests])) as CpuSeconds;
}

/** Loads the scenario's target and measures it: throughput, latency, errors, and the CPU time of every process involved. */
export async function runScenario(scenario: Scenario): Promise<Row> {
  const { target, next, ...described } = scenario;
  try {
    const tracked = await target.tracked();
    // Read outside the CPU meter's window: scraping /metrics costs the replicas too.
    const stopCommits = await startCommitMeter(tracked);
    const stopMeter = startCpuMeter(tracked);
    const load = await runLoad({ url: target.url, access: target.access, send: target.send, connections: scenario.connections, durationS: scenario.durationS, next });
    const cpuSeconds = stopMeter();
    const commits = await stopCommits();
    const row: Row = { ...described, ...load, cpuSeconds, cpuPer10k: per10k(cpuSeconds, load.requests), requestsPerCommit: requestsPerCommit(commits, load.requests) };
    if (load.requests === 0) row.failure = 'no request was answered';
    return row;
  } catch (error) {
    return { ...described, failure: (error as Error).message };
  }
}
