/**
 * Interleaved rounds: the one way the bench compares things (two builds,
 * security variants, kvstore against its baselines). On a 2-core host one
 * pass of rows does not repeat, but the rows of one round share the same
 * noise: so every entrant of a comparison runs in every round, all of them
 * up at once, first to last in odd rounds and last to first in even ones, and
 * each entrant's req/s is divided by the reference's (the comparison's first
 * entrant) of the same round. Reported: the median ratio with its min and
 * max, and per entrant the medians of req/s, p50, p99 and CPU seconds per 10k
 * requests by process kind (the figure that holds still).
 */
import { formatCell, printTable, type Cell } from '../common';
import { measure, type Run } from './context';
import { PROCESS_KINDS, type ProcessKind } from './cpu';
import type { RequestsPerCommit } from './commits';
import type { RequestShape } from './load';
import type { Row, Target } from './measure';

/** One thing measured in every round of a comparison: a label, where its load goes, and its requests. */
export interface Entrant {
  label: string;
  target: Target;
  next: () => RequestShape;
}

/** A workload measured on each of its entrants every round; the first entrant is the reference of the ratios. */
export interface Comparison {
  workload: string;
  entrants: Entrant[];
}

/** CPU seconds per 10k requests by process kind, `client` (the load generator) and `servers` (every kind but client). */
export type CpuMedians = Partial<Record<ProcessKind | 'client' | 'servers', number>>;

export interface EntrantSummary {
  label: string;
  /** Rounds in which it ran. */
  ran: number;
  /** Medians over those rounds. */
  reqPerSec?: number;
  p50?: number;
  p99?: number;
  cpuPer10k: CpuMedians;
  /** Requests per group commit of one leader and of one follower (kvservers; writes only). */
  requestsPerCommit: RequestsPerCommit;
  /** req/s over the reference's in the same round, for each round both ran; absent for the reference. */
  ratio?: { rounds: number[]; median: number; min: number; max: number };
}

export interface ComparisonSummary {
  workload: string;
  reference: string;
  entrants: EntrantSummary[];
}

export interface RoundsResult {
  title: string;
  rounds: number;
  comparisons: ComparisonSummary[];
}

/** "gate GET strong [candidate]": the name of a rounds row. */
export const roundRowName = (workload: string, label: string): string => `${workload} [${label}]`;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const medianOrUndefined = (values: Array<number | undefined>): number | undefined => {
  const present = values.filter((value): value is number => value !== undefined && !Number.isNaN(value));
  return present.length === 0 ? undefined : median(present);
};

/** Runs `count` rounds of every comparison (rows into run.rows, group `rounds`), then sums them up into run.rounds. */
export async function runRounds(run: Run, title: string, comparisons: Comparison[], count = run.options.rounds): Promise<RoundsResult> {
  const { connections, durationS } = run.options;
  for (let number = 1; number <= count; number++) {
    for (const { workload, entrants } of comparisons) {
      const order = number % 2 === 1 ? entrants : [...entrants].reverse();
      await measure(
        run,
        order.map(({ label, target, next }) => ({
          name: roundRowName(workload, label),
          group: 'rounds' as const,
          target,
          next,
          connections,
          durationS,
          round: { comparison: workload, entrant: label, number },
        })),
      );
    }
  }
  const result = { title, rounds: count, comparisons: comparisons.map((comparison) => summarize(run.rows, comparison)) };
  run.rounds.push(result);
  return result;
}

/** The rows of one comparison's entrant that ran, by round number. */
function roundsOf(rows: Row[], workload: string, label: string): Map<number, Row> {
  const mine = rows.filter((row) => row.round?.comparison === workload && row.round.entrant === label && !row.failure && row.reqPerSec !== undefined);
  return new Map(mine.map((row) => [row.round!.number, row]));
}

function cpuMedians(rows: Row[]): CpuMedians {
  const medians: CpuMedians = {};
  for (const kind of [...PROCESS_KINDS, 'client' as const]) {
    const value = medianOrUndefined(rows.map((row) => row.cpuPer10k?.[kind]));
    if (value !== undefined) medians[kind] = value;
  }
  const servers = medianOrUndefined(rows.map((row) => (row.cpuPer10k ? PROCESS_KINDS.reduce((sum, kind) => sum + (row.cpuPer10k![kind] ?? 0), 0) : undefined)));
  if (servers !== undefined) medians.servers = servers;
  return medians;
}

function commitMedians(rows: Row[]): RequestsPerCommit {
  const medians: RequestsPerCommit = {};
  for (const kind of ['leader', 'followers'] as const) {
    const value = medianOrUndefined(rows.map((row) => row.requestsPerCommit?.[kind]));
    if (value !== undefined) medians[kind] = value;
  }
  return medians;
}

/** One comparison's figures from the rows of its rounds. */
export function summarize(rows: Row[], comparison: Pick<Comparison, 'workload'> & { entrants: Array<Pick<Entrant, 'label'>> }): ComparisonSummary {
  const { workload, entrants } = comparison;
  const reference = roundsOf(rows, workload, entrants[0]!.label);
  return {
    workload,
    reference: entrants[0]!.label,
    entrants: entrants.map(({ label }, index) => {
      const byRound = roundsOf(rows, workload, label);
      const ran = [...byRound.values()];
      const summary: EntrantSummary = {
        label,
        ran: ran.length,
        reqPerSec: medianOrUndefined(ran.map((row) => row.reqPerSec)),
        p50: medianOrUndefined(ran.map((row) => row.latencyMs?.p50)),
        p99: medianOrUndefined(ran.map((row) => row.latencyMs?.p99)),
        cpuPer10k: cpuMedians(ran),
        requestsPerCommit: commitMedians(ran),
      };
      const ratios = [...byRound].flatMap(([number, row]) => {
        const base = reference.get(number);
        return base ? [row.reqPerSec! / base.reqPerSec!] : [];
      });
      if (index > 0 && ratios.length > 0) summary.ratio = { rounds: ratios, median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
      return summary;
    }),
  };
}

const CPU_COLUMNS = ['servers', 'gate', 'leader', 'followers', 'baseline', 'client'] as const;

/** The table of a rounds result: per comparison and entrant, req/s, the ratio, CPU per 10k requests by kind, p99. */
export function printRounds(result: RoundsResult): void {
  const orDash = (value: number | undefined): Cell => (value === undefined ? '-' : value);
  printTable(
    `${result.title}: medians of ${result.rounds} interleaved round${result.rounds === 1 ? '' : 's'}`,
    ['workload', 'entrant', 'req/s', 'ratio (min–max)', ...CPU_COLUMNS.map((kind) => (kind === 'baseline' ? 'base' : kind)), 'req/commit: leader', 'follower', 'p50', 'p99'],
    result.comparisons.flatMap((comparison) =>
      comparison.entrants.map((entrant): Cell[] => [
        comparison.workload,
        entrant.label,
        entrant.ran === 0 ? 'FAILED' : orDash(entrant.reqPerSec),
        entrant.ratio ? `${entrant.ratio.median.toFixed(3)}× (${entrant.ratio.min.toFixed(3)}–${entrant.ratio.max.toFixed(3)})` : entrant.label === comparison.reference ? 'reference' : '-',
        ...CPU_COLUMNS.map((kind) => orDash(entrant.cpuPer10k[kind])),
        orDash(entrant.requestsPerCommit.leader),
        orDash(entrant.requestsPerCommit.followers),
        orDash(entrant.p50),
        orDash(entrant.p99),
      ]),
    ),
  );
  console.log(
    'ratio: req/s over the reference\'s (each workload\'s first entrant) in the same round; CPU: seconds per 10,000 requests ' +
      '(servers: every process but the load generator; leader/followers: kvservers or etcd members; base: a baseline server; client: the load generator, this process); ' +
      'req/commit: requests per fsync\'d group commit of the kvserver leader and of one follower (from their /metrics; writes only); p50 and p99 in ms',
  );
  for (const comparison of result.comparisons) {
    for (const entrant of comparison.entrants.filter((candidate) => candidate.ratio)) {
      console.log(`${comparison.workload} [${entrant.label}] / [${comparison.reference}]: rounds ${entrant.ratio!.rounds.map((value) => formatCell(value)).join(', ')}`);
    }
  }
}
