import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGate, SAMPLE_CLUSTER } from '@kvstore/kvclient/testing';
import type { MigrationView } from '@kvstore/kvclient';

const RUNNING: MigrationView = {
  id: 'm-1',
  kind: 'add',
  partition: 'p2',
  state: 'running',
  startedAt: 0,
  finishedAt: null,
  slotsTotal: 100,
  slotsMoved: 10,
  keysMoved: 5,
  bytesMoved: 50,
  keysPerSecond: 1,
  etaSeconds: 90,
  pauseMsMax: 3,
  pauseMsMean: 2,
  blocked: [],
};
import { formatProgress } from '../src/progress';
import { runKvctl, type RunOptions } from './harness';

const BINARY = Buffer.from([0, 255, 10, 13, 0xc3, 0x28]);

describe('kvctl backup and restore', () => {
  let source: FakeGate;
  let dir: string;
  const kvctl = (gate: FakeGate, argv: string[], options: RunOptions = {}) =>
    runKvctl(['--host', gate.host, ...argv], { env: { KVCTL_HISTORY: join(dir, 'history') }, ...options });

  before(async () => {
    source = await FakeGate.start();
    dir = mkdtempSync(join(tmpdir(), 'kvctl-backup-'));
    for (let index = 0; index < 50; index++) assert.equal((await kvctl(source, ['put', `key-${index}`, `value-${index}`])).code, 0);
    assert.equal((await kvctl(source, ['put', 'binary'], { stdin: BINARY })).code, 0);
    assert.equal((await kvctl(source, ['put', 'short-lived', 'v', '--ttl', '600'])).code, 0);
  });
  after(() => source.close());
  beforeEach(() => {
    source.fault = null;
    source.cutSnapshotAfter = null;
  });

  const lines = (file: string) =>
    readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  test('backup refuses while a migration moves slots (a key could be in neither snapshot), and writes nothing', async () => {
    const file = join(dir, 'during-migration.ndjson');
    source.cluster = { ...SAMPLE_CLUSTER, migration: { ...RUNNING } };
    try {
      const result = await kvctl(source, ['backup', file]);
      assert.equal(result.code, 4, result.stderr);
      assert.match(result.stderr, /migration m-1 is running/);
      assert.ok(!existsSync(file) && !existsSync(`${file}.tmp`));
    } finally {
      source.cluster = SAMPLE_CLUSTER;
    }
  });

  test('backup writes a header per partition, its records and a summary; one line on stdout, nothing on stderr', async () => {
    const file = join(dir, 'plain.ndjson');
    const result = await kvctl(source, ['backup', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout.toString(), /^backed up 52 records of 2 partitions \(p0@\d+, p1@\d+\) to .* in [\d.]+ s\n$/);
    assert.ok(!existsSync(`${file}.tmp`));

    const parsed = lines(file);
    const headers = parsed.filter((line) => 'partition' in line);
    assert.deepEqual(
      headers.map((header) => header.partition),
      ['p0', 'p1'],
    );
    for (const header of headers) assert.equal(typeof header.seq, 'number');
    assert.equal(
      headers.reduce((sum, header) => sum + (header.records as number), 0),
      52,
    );
    const records = new Map(parsed.filter((line) => 'key' in line).map((line) => [line.key as string, line]));
    assert.equal(records.size, 52);
    assert.deepEqual(Buffer.from(records.get('binary')!.value as string, 'base64'), BINARY);
    assert.equal(records.get('key-1')!.expiresAt, null);
    assert.ok((records.get('short-lived')!.expiresAt as number) > Date.now());
    const summary = parsed.at(-1)!;
    assert.equal(summary.kvstore, 'backup');
    assert.equal(summary.records, 52);
    assert.equal(summary.partitions, 2);
    // Every record sits under the header of the partition it came from.
    let current = '';
    for (const line of parsed) {
      if ('partition' in line) current = line.partition as string;
      else if ('key' in line) assert.equal(source.partitionOf(line.key as string), current);
    }
  });

  test('--json summaries', async () => {
    const file = join(dir, 'json.ndjson');
    const result = await kvctl(source, ['backup', file, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.toString());
    assert.equal(summary.records, 52);
    assert.deepEqual(
      summary.partitions.map((partition: { partition: string }) => partition.partition),
      ['p0', 'p1'],
    );

    const target = await FakeGate.start();
    try {
      const restored = await kvctl(target, ['restore', file, '--json']);
      assert.equal(restored.code, 0, restored.stderr);
      assert.deepEqual(
        { ...JSON.parse(restored.stdout.toString()), seconds: 0 },
        { file, records: 52, restored: 52, expired: 0, seconds: 0 },
      );
    } finally {
      await target.close();
    }
  });

  test('restore writes every record with new versions and the remaining ttl', async () => {
    const file = join(dir, 'round-trip.ndjson');
    assert.equal((await kvctl(source, ['backup', file])).code, 0);
    const target = await FakeGate.start();
    try {
      await kvctl(target, ['put', 'bump', 'versions']); // so that versions cannot line up by chance
      const result = await kvctl(target, ['restore', file, '--concurrency', '4']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.match(result.stdout.toString(), /^restored 52 of 52 records from .* \(new versions\)\n$/);
      for (const [key, entry] of source.entries) {
        const copy = target.entries.get(key);
        assert.ok(copy, key);
        assert.deepEqual(copy.value, entry.value, key);
        if (entry.expiresAtMs === null) assert.equal(copy.expiresAtMs, null, key);
        else assert.ok(Math.abs(copy.expiresAtMs! - entry.expiresAtMs) <= 1500, `${key} keeps its remaining ttl`);
      }
      assert.notEqual(target.entries.get('key-0')!.version, source.entries.get('key-0')!.version);
    } finally {
      await target.close();
    }
  });

  test('records already expired are skipped', async () => {
    const file = join(dir, 'expired.ndjson');
    const past = Date.now() - 1000;
    const future = Date.now() + 10_500;
    writeFileSync(
      file,
      [
        { partition: 'p0', seq: 3, epoch: 1, records: 3 },
        { key: 'gone', value: 'YQ==', version: 1, expiresAt: past },
        { key: 'kept', value: 'Yg==', version: 2, expiresAt: future },
        { key: 'forever', value: '', version: 3, expiresAt: null },
        { kvstore: 'backup', format: 1, partitions: 1, records: 3, createdAt: new Date().toISOString() },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n',
    );
    const target = await FakeGate.start();
    try {
      const result = await kvctl(target, ['restore', file]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.toString(), /restored 2 of 3 records .* 1 already expired skipped/);
      assert.ok(!target.entries.has('gone'));
      assert.deepEqual(target.entries.get('forever')!.value, Buffer.alloc(0));
      assert.ok(target.requests.includes('PUT /v1/kv/kept?ttl=11'), target.requests.join(', '));
    } finally {
      await target.close();
    }
  });

  test('a bad file is refused with exit 4 and one line, before anything is written', async () => {
    const good = join(dir, 'good.ndjson');
    assert.equal((await kvctl(source, ['backup', good])).code, 0);
    const text = readFileSync(good, 'utf8');
    const all = text.trimEnd().split('\n');
    const recordAt = all.findIndex((line) => line.startsWith('{"key"'));
    const corruptions: Record<string, string> = {
      'not JSON': text.replace(all[recordAt + 3]!, all[recordAt + 3]!.slice(0, 10)),
      'bad base64': text.replace(/"value":"[^"]*"/, '"value":"%%%"'),
      'cut short': all.slice(0, -1).join('\n') + '\n',
      'a record missing': all.filter((_, index) => index !== all.length - 3).join('\n') + '\n',
      empty: '',
      'not a backup': '{"hello":"world"}\n',
      'a line after the summary': `${text}{"key":"late","value":"","version":1,"expiresAt":null}\n`,
      'an empty key': text.replace(/"key":"[^"]*"/, '"key":""'),
      'a key with a lone surrogate': text.replace(/"key":"[^"]*"/, '"key":"a\\udc00"'),
      'a key over 1024 bytes': text.replace(/"key":"[^"]*"/, `"key":"${'k'.repeat(1025)}"`),
    };
    const target = await FakeGate.start();
    try {
      for (const [what, content] of Object.entries(corruptions)) {
        const file = join(dir, `bad-${what.replace(/\W+/g, '-')}.ndjson`);
        writeFileSync(file, content);
        const result = await kvctl(target, ['restore', file]);
        assert.equal(result.code, 4, `${what}: ${result.stderr}`);
        assert.match(result.stderr, /^kvctl: BAD_BACKUP: .*\n$/, what);
        assert.equal(result.stderr.split('\n').length, 2, `${what}: one line`);
        assert.equal(result.stdout.length, 0, what);
      }
      assert.deepEqual(
        target.requests.filter((request) => request.startsWith('PUT')),
        [],
        'nothing was written',
      );
      const missing = await kvctl(target, ['restore', join(dir, 'no-such-file')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*ENOENT/);
    } finally {
      await target.close();
    }
  });

  test('a snapshot stream cut short fails the backup (exit 3) and leaves neither the file nor its .tmp', async () => {
    const file = join(dir, 'cut.ndjson');
    source.cutSnapshotAfter = 5;
    const result = await kvctl(source, ['backup', file]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /^kvctl: UNAVAILABLE: .*cut.*\n$/);
    assert.ok(!existsSync(file));
    assert.ok(!readdirSync(dir).some((name) => name.startsWith('cut.ndjson')));
  });

  test('an unavailable cluster is exit 3 and leaves no file', async () => {
    const file = join(dir, 'unavailable.ndjson');
    source.fault = { kind: 'error', code: 'UNAVAILABLE', message: 'partition p0 has no leader' };
    const result = await kvctl(source, ['--timeout', '2000', 'backup', file]);
    assert.equal(result.code, 3);
    assert.ok(!readdirSync(dir).some((name) => name.startsWith('unavailable.ndjson')));
  });

  test('a progress bar is drawn on stderr only when it is a terminal', async () => {
    const file = join(dir, 'tty.ndjson');
    const result = await kvctl(source, ['backup', file], { stderrIsTTY: true });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\rbackup p\d \(\d\/2\) \[[#.]+\] [\d,]+\/[\d,]+ records/);
    assert.ok(result.stderr.endsWith('\r\x1b[K'), 'the bar is cleared before the summary');

    const target = await FakeGate.start();
    try {
      const restored = await kvctl(target, ['restore', file], { stderrIsTTY: true });
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stderr, /\[#{24}\] 52\/52 records/);
    } finally {
      await target.close();
    }
  });

  test('formatProgress', () => {
    assert.equal(formatProgress('restore', 1200, 3000, 250), 'restore [#########...............] 1,200/3,000 records  4,800/s');
    assert.equal(formatProgress('backup p0', 10, 5, 1000), 'backup p0 [########################] 10 records  10/s');
    assert.equal(formatProgress('backup p0', 10, null, 0), 'backup p0 10 records  0/s');
  });

  test('both commands work in the shell', async () => {
    const file = join(dir, 'shell.ndjson');
    const result = await kvctl(source, ['-i'], { stdin: `backup ${file}\nrestore ${file}\n` });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.match(result.stdout.toString(), /backed up 52 records/);
    assert.match(result.stdout.toString(), /restored 52 of 52 records/);
  });
});
