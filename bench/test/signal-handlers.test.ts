import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

test("the cluster bench's suites install no signal handler on import: Ctrl-C goes to the bench's lifecycle, which stops what it started", () => {
  // What main.js runs (it runs the bench when loaded, so it is left out); they import the rest.
  const suites = ['plan', 'compare', 'security', 'pipeline', 'reshard'].map((name) => path.join(__dirname, '..', 'src', 'cluster', `${name}.js`));
  const script = `${suites.map((file) => `require(${JSON.stringify(file)});`).join('')}
    process.stdout.write(JSON.stringify(['SIGINT', 'SIGTERM', 'SIGHUP'].map((signal) => process.listenerCount(signal))));`;
  const counts = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as number[];
  assert.deepEqual(counts, [0, 0, 0]);
});
