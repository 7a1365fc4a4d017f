import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'bench', 'dist', 'src', 'cluster', 'main.js');

/** The rows of a --smoke run (1 partition × 2 replicas, sync, fsync on, data dirs; etcd is skipped). */
const MAIN_ROWS = [
  'baseline fixed body',
  'baseline Map GET',
  'baseline Map PUT',
  'gate GET strong',
  'gate GET eventual',
  'gate PUT (sync, fsync on)',
  'gate 90/10 GET/PUT',
  'gate hot key PUT (1 key)',
  'gate GET uniform (1,000 keys)',
  'direct GET strong (leader of p0)',
  'direct PUT (leader of p0)',
  'gate PUT (async, fsync on)',
  'gate PUT (sync, fsync off)',
];

interface ResultRow {
  name: string;
  group: string;
  requests?: number;
  errors?: number;
  failure?: string;
}

test('the cluster bench runs in --smoke mode and writes its JSON and SVG (no speed is asserted)', async () => {
  assert.ok(fs.existsSync(script), `${script} is not built: run tsc -b`);
  const out = fs.mkdtempSync(join(os.tmpdir(), 'kvstore-bench-cluster-smoke-'));
  try {
    // execFile rejects on a non-zero exit, with the output in the error.
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--smoke', '--out', out], {
      encoding: 'utf8',
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const table of ['Cluster bench', 'Scaling with connections', 'Gate GET with more keys loaded']) assert.match(stdout, new RegExp(table));
    const files = fs.readdirSync(out).sort();
    assert.equal(files.length, 2, `a JSON and an SVG in ${out}: ${files.join(', ')}`);
    const [json, svg] = files as [string, string];
    assert.match(json, /^\d{4}-\d{2}-\d{2}T\d{6}-cluster\.json$/);
    assert.equal(svg, json.replace(/\.json$/, '.svg'));

    const results = JSON.parse(fs.readFileSync(join(out, json), 'utf8')) as { suite: string; rows: ResultRow[]; failures: string[] };
    assert.equal(results.suite, 'cluster');
    assert.deepEqual(results.failures, []);
    assert.deepEqual(
      results.rows.filter((row) => row.group !== 'connections' && row.group !== 'keys').map((row) => row.name),
      MAIN_ROWS,
    );
    assert.equal(results.rows.filter((row) => row.group === 'connections').length, 4, 'gate GET and PUT at 1 and 4 connections');
    assert.equal(results.rows.filter((row) => row.group === 'keys').length, 1, 'gate GET with 2,000 keys loaded');
    for (const row of results.rows) {
      assert.equal(row.failure, undefined, `${row.name} ran`);
      assert.ok((row.requests ?? 0) > 0, `${row.name} made requests`);
      assert.equal(row.errors, 0, `${row.name} had no errors`);
    }
    const chart = fs.readFileSync(join(out, svg), 'utf8');
    assert.ok(chart.startsWith('<svg') && chart.trimEnd().endsWith('</svg>'), 'the chart is an SVG document');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
