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
  failure?: string;
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
