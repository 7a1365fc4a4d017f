import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'bench', 'dist', 'src', 'storage.js');

test('the storage bench runs in --quick mode and writes its JSON (no speed is asserted)', async () => {
  assert.ok(fs.existsSync(script), `${script} is not built: run tsc -b`);
  const out = fs.mkdtempSync(join(os.tmpdir(), 'kvstore-bench-smoke-'));
  try {
    // execFile rejects on a non-zero exit, with the output in the error.
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--quick', '--keys', '20000', '--out', out], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const table of ['Puts', 'Gets', 'Restart with 20,000 keys', 'Disk use']) assert.match(stdout, new RegExp(table));
    const files = fs.readdirSync(out).filter((name) => /^storage-.*\.json$/.test(name));
    assert.equal(files.length, 1, `one results file in ${out}: ${fs.readdirSync(out).join(', ')}`);
    const results = JSON.parse(fs.readFileSync(join(out, files[0]!), 'utf8')) as {
      suite: string;
      fsyncFloor: { userUsPerSync: number; systemUsPerSync: number };
      writes: Array<{ fsync: boolean; writers: number; puts: number; userUsPerCommit: number; systemUsPerCommit: number }>;
      reads: { keys: number };
      restart: { keys: number; scannedKeys: number };
      disk: { keys: number };
    };
    assert.equal(results.suite, 'storage');
    assert.deepEqual(
      results.writes.map(({ fsync, writers }) => [fsync, writers]),
      [[true, 1], [true, 16], [true, 64], [false, 1], [false, 16], [false, 64]],
    );
    for (const run of results.writes) assert.ok(run.puts > 0, 'every write configuration made puts');
    // The CPU a commit costs, by where it is spent: what a replica's fsync'd commit costs the machine.
    for (const run of results.writes) assert.ok(run.userUsPerCommit > 0 && Number.isFinite(run.systemUsPerCommit), `CPU per commit: ${JSON.stringify(run)}`);
    assert.ok(results.fsyncFloor.userUsPerSync + results.fsyncFloor.systemUsPerSync > 0, `CPU per sync: ${JSON.stringify(results.fsyncFloor)}`);
    assert.equal(results.restart.keys, 20_000);
    assert.equal(results.restart.scannedKeys, 20_000);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
