import { formatCell, printTable, type Cell } from '../common';
import { PROCESS_KINDS } from './cpu';
import type { Ratio, Row } from './measure';
import type { ReshardResult } from './reshard-result';
import { REFERENCE_LABEL } from './scenarios';

const MAIN_GROUPS = new Set(['baseline', 'gate', 'direct', 'variant', 'etcd']);

/** The rows of the main table (and chart): every scenario but the scaling figure's. */
export function mainRows(rows: Row[]): Row[] {
  return rows.filter((row) => MAIN_GROUPS.has(row.group));
}

/** Fills in each row's ratios to the rows named in its comparedWith, where those ran. */
export function addRatios(rows: Row[]): void {
  const rate = new Map(rows.filter((row) => row.reqPerSec !== undefined && !row.failure).map((row) => [row.name, row.reqPerSec!]));
  const ratio = (against: string | undefined, value: number | undefined): Ratio | undefined => {
    const reference = against === undefined ? undefined : rate.get(against);
    return reference && value !== undefined ? { against: against!, value: value / reference } : undefined;
  };
  for (const row of rows) {
    row.ratio = ratio(row.comparedWith?.baseline, row.reqPerSec);
    row.etcdRatio = ratio(row.comparedWith?.etcd, row.reqPerSec);
  }
}

function ratioCell(ratio: Ratio | undefined): string {
  return ratio ? `${ratio.value.toFixed(2)}× ${REFERENCE_LABEL[ratio.against] ?? ratio.against}` : '-';
}

const orDash = (value: number | undefined): Cell => (value === undefined || Number.isNaN(value) ? '-' : value);

/** The CPU columns: seconds per 10k requests of each process kind, then this process (the load generator). */
const CPU_HEADER = ['gate', 'leader', 'followers', 'zk', 'base', 'client'];
function cpuCells(row: Row): Cell[] {
  return [...PROCESS_KINDS, 'client' as const].map((kind) => orDash(row.cpuPer10k?.[kind]));
}

/** One line as a row finishes, so that a long run shows progress. */
export function progressLine(row: Row): string {
  if (row.failure) return `  ${row.name}: FAILED: ${row.failure}`;
  const errors = row.errors ? `, ${row.errors} errors ${JSON.stringify(row.statusCodes)} (${row.timeouts} timeouts)` : '';
  return `  ${row.name}: ${formatCell(row.reqPerSec!)} req/s, p99 ${formatCell(row.latencyMs!.p99)} ms${errors}`;
}

export function printMainTable(title: string, rows: Row[]): void {
  printTable(
    title,
    ['scenario', 'req/s', 'vs baseline', 'vs etcd', 'p50', 'p99', 'p99.9', 'errors', ...CPU_HEADER],
    mainRows(rows).map((row) =>
      row.failure
        ? [row.name, 'FAILED', '-', '-', '-', '-', '-', '-', ...CPU_HEADER.map(() => '-')]
        : [row.name, row.reqPerSec!, ratioCell(row.ratio), ratioCell(row.etcdRatio), row.latencyMs!.p50, row.latencyMs!.p99, row.latencyMs!.p99_9, row.errors!, ...cpuCells(row)],
    ),
  );
  console.log('latency in ms; CPU in seconds per 10,000 requests (leader/followers: kvservers or etcd members; base: the baseline server; client: the load generator, this process)');
  for (const row of rows.filter((candidate) => candidate.etcdRatio)) {
    console.log(`${row.name}: ${ratioCell(row.ratio)}, ${ratioCell(row.etcdRatio)}`);
  }
}

/** The scaling figure: gate GET and PUT against connections, and GET against keys loaded. */
export function printScalingTables(rows: Row[]): void {
  const byConnections = rows.filter((row) => row.group === 'connections');
  const counts = [...new Set(byConnections.map((row) => row.connections))];
  if (counts.length > 0) {
    const cells = (row: Row | undefined): Cell[] => (row && !row.failure ? [row.reqPerSec!, row.latencyMs!.p99] : ['FAILED', '-']);
    printTable(
      `Scaling with connections (gate, ${byConnections[0]!.durationS} s per row)`,
      ['connections', 'GET req/s', 'GET p99', 'PUT req/s', 'PUT p99'],
      counts.map((connections) => {
        const at = byConnections.filter((row) => row.connections === connections);
        return [connections, ...cells(at.find((row) => row.name.startsWith('gate GET'))), ...cells(at.find((row) => row.name.startsWith('gate PUT')))];
      }),
    );
  }
  const byKeys = rows.filter((row) => row.group === 'keys');
  if (byKeys.length > 0) {
    printTable(
      `Gate GET with more keys loaded (${byKeys[0]!.durationS} s per row; CPU s per 10k requests)`,
      ['keys', 'load s', 'loaded/s', 'GET req/s', 'p99', 'gate', 'leader', 'followers'],
      byKeys.map((row) => [
        row.keys!.count,
        row.keys!.loadSeconds,
        row.keys!.loadSeconds > 0 ? row.keys!.loaded / row.keys!.loadSeconds : '-',
        row.failure ? 'FAILED' : row.reqPerSec!,
        orDash(row.latencyMs?.p99),
        orDash(row.cpuPer10k?.gate),
        orDash(row.cpuPer10k?.leader),
        orDash(row.cpuPer10k?.followers),
      ]),
    );
  }
}

/** The resharding scenario: what the clients saw in each phase, each step's migration, the totals and the read-back. */
export function printReshardTable(title: string, rows: Row[], result: ReshardResult | undefined): void {
  const phases = rows.filter((row) => row.group === 'reshard');
  const before = phases.find((row) => row.name === 'reshard before')?.reqPerSec;
  const times = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : `${value.toFixed(2)}×`);
  printTable(
    title,
    ['phase', 's', 'req/s', 'vs before', 'p50', 'p99', 'max', 'write p99', 'write max', 'errors', 'gate', 'leader', 'followers'],
    phases.map((row) => [
      row.name.replace(/^reshard /, ''),
      row.elapsedS!,
      row.reqPerSec!,
      times(before && row.requests ? row.reqPerSec! / before : null),
      orDash(row.latencyMs!.p50),
      orDash(row.latencyMs!.p99),
      orDash(row.latencyMs!.max),
      orDash(row.writeLatencyMs!.p99),
      orDash(row.writeLatencyMs!.max),
      row.errors!,
      orDash(row.cpuPer10k?.gate),
      orDash(row.cpuPer10k?.leader),
      orDash(row.cpuPer10k?.followers),
    ]),
  );
  console.log(
    "starting: from the step's start (replicas started, or the admin request sent) to the migration's start, during: to its end (its own stamps), after: to the next step; " +
      'latency in ms; write: PUTs and DELETEs; errors: no answer, or a status other than 2xx, 404 and 412; CPU in seconds per 10,000 requests, from when the bench saw each phase begin',
  );
  for (const row of phases.filter((candidate) => candidate.errors)) console.log(`errors ${row.name.replace(/^reshard /, '')}: ${JSON.stringify(row.errorCodes)}`);
  if (!result) return;
  printTable(
    'Steps: each migration (the gate\'s view) and the clients during it',
    ['step', 'partitions', 'migration s', 'keys moved', 'keys/s', 'req/s', 'vs before', 'p50', 'p99', 'max', 'write max', 'pause max', 'errors', 'waits'],
    result.steps.map((step) => [
      step.name,
      `${step.from} → ${step.to}`,
      step.migrationSeconds,
      step.migration.keysMoved,
      step.migration.keysPerSecond,
      step.reqPerSecDuring,
      times(step.throughputRatio),
      orDash(step.latencyMs.p50),
      orDash(step.latencyMs.p99),
      orDash(step.latencyMs.max),
      orDash(step.worstWriteMs),
      step.migration.pauseMsMax,
      step.errors,
      step.cutoverWaits,
    ]),
  );
  console.log(
    'req/s, latency (ms) and write max: during the migration; pause max: its pauseMsMax, the longest time a batch of slots refused writes; ' +
      "errors: over the step's three phases; waits: of them, 503s of a request whose wait for a slot being cut over ran out",
  );
  const { totals, check } = result;
  const count = (n: number): string => formatCell(Math.round(n));
  console.log(
    `all steps: ${totals.seconds.toFixed(1)} s from the first step's start to the last migration's end, ${totals.migrationSeconds.toFixed(1)} s migrating, ${count(totals.keysMoved)} keys moved; ` +
      `clients from the first step to the end of the load: ${times(totals.throughputRatio)} before, p50 ${formatCell(totals.latencyMs.p50)} / p99 ${formatCell(totals.latencyMs.p99)} / max ${formatCell(totals.latencyMs.max)} ms, ` +
      `slowest write ${formatCell(totals.worstWriteMs)} ms; longest write pause ${count(totals.worstPauseMs)} ms; ` +
      `${totals.errors} errors over the whole load (${totals.cutoverWaits} of them cut-over waits)`,
  );
  console.log(
    `read back (load stopped; a strong GET of every key through the gate against its last acknowledged write): ${count(check.keys)} keys in ${check.seconds.toFixed(1)} s: ` +
      `${check.lost} lost, ${check.stale} stale, ${check.unreadable} unreadable; ${check.uncertain} with a write of unknown outcome (either state accepted)`,
  );
  for (const example of check.examples) console.log(`  ${example}`);
}
