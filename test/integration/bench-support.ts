/** Shared by the bench smoke tests: run the cluster bench's main script, read the JSON and SVG it wrote. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'bench', 'dist', 'src', 'cluster', 'main.js');

/** A row of the results JSON, as far as the tests look. */
export interface ResultRow {
  name: string;
  group: string;
  requests?: number;
  errors?: number;
  latencyMs?: { p50: number; p99: number };
  failure?: string;
  round?: { comparison: string; entrant: string; number: number };
  requestsPerCommit?: { leader?: number; followers?: number };
}

/** A set of interleaved rounds in the results JSON (bench/src/cluster/rounds.ts), as far as the tests look. */
export interface RoundsResult {
  title: string;
  rounds: number;
  comparisons: Array<{
    workload: string;
    reference: string;
    entrants: Array<{ label: string; ran: number; reqPerSec?: number; cpuPer10k: Record<string, number>; requestsPerCommit: { leader?: number; followers?: number }; ratio?: { rounds: number[]; median: number; min: number; max: number } }>;
  }>;
}

/**
 * Checks the shape of a rounds result (not its figures): each comparison's
 * entrants (the reference first) ran in every round, in the order of the
 * rows (first to last in odd rounds, last to first in even ones), and every
 * entrant but the reference has a ratio per round within its min and max,
 * and CPU per 10k requests of the servers and the load generator.
 */
export function checkRounds(result: RoundsResult, rows: ResultRow[], expected: Array<{ workload: string; entrants: string[] }>, rounds: number): void {
  assert.equal(result.rounds, rounds);
  assert.deepEqual(
    result.comparisons.map((comparison) => ({ workload: comparison.workload, entrants: comparison.entrants.map((entrant) => entrant.label) })),
    expected,
  );
  const order = expected.flatMap(({ workload, entrants }) => Array.from({ length: rounds }, (_, index) => ({ workload, number: index + 1, labels: index % 2 === 0 ? entrants : [...entrants].reverse() })));
  const mine = rows.filter((row) => row.group === 'rounds' && expected.some((comparison) => comparison.workload === row.round?.comparison));
  const byRound = (number: number, workload: string): string[] => mine.filter((row) => row.round!.number === number && row.round!.comparison === workload).map((row) => row.round!.entrant);
  for (const { workload, number, labels } of order) assert.deepEqual(byRound(number, workload), labels, `${workload}, round ${number}: entrants in order`);
  for (const row of mine) assert.equal(row.name, `${row.round!.comparison} [${row.round!.entrant}]`);
  for (const comparison of result.comparisons) {
    assert.equal(comparison.reference, comparison.entrants[0]!.label);
    for (const [index, entrant] of comparison.entrants.entries()) {
      assert.equal(entrant.ran, rounds, `${comparison.workload} [${entrant.label}] ran every round`);
      assert.ok(entrant.cpuPer10k.servers! > 0 && entrant.cpuPer10k.client! > 0, `${comparison.workload} [${entrant.label}]: CPU per 10k of the servers and the client`);
      if (index === 0) {
        assert.equal(entrant.ratio, undefined, 'the reference has no ratio');
        continue;
      }
      const ratio = entrant.ratio!;
      assert.equal(ratio.rounds.length, rounds);
      assert.ok(ratio.min > 0 && ratio.min <= ratio.median && ratio.median <= ratio.max, `${comparison.workload} [${entrant.label}]: min <= median <= max`);
    }
  }
}

/** Runs bench/dist/src/cluster/main.js with `args` and `--out` a temp dir; rejects on a non-zero exit, with the output in the error. */
export async function runBench(args: string[], check: (stdout: string, out: string) => void): Promise<void> {
  assert.ok(fs.existsSync(script), `${script} is not built: run tsc -b`);
  const out = fs.mkdtempSync(join(os.tmpdir(), 'kvstore-bench-cluster-smoke-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args, '--out', out], {
      encoding: 'utf8',
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    check(stdout, out);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The JSON and SVG of a run in `out`, named <stamp>-<suite>; the SVG is checked, the JSON returned parsed. */
export function readResults<T>(out: string, suite: string): T {
  const files = fs.readdirSync(out).sort();
  assert.equal(files.length, 2, `a JSON and an SVG in ${out}: ${files.join(', ')}`);
  const [json, svg] = files as [string, string];
  assert.match(json, new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{6}-${suite}\\.json$`));
  assert.equal(svg, json.replace(/\.json$/, '.svg'));
  const chart = fs.readFileSync(join(out, svg), 'utf8');
  assert.ok(chart.startsWith('<svg') && chart.trimEnd().endsWith('</svg>'), 'the chart is an SVG document');
  return JSON.parse(fs.readFileSync(join(out, json), 'utf8')) as T;
}
