import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KvClient } from '@kvstore/kvclient';
import { runKvctl, startCluster, tempDir, type TestCluster } from '@kvstore/testkit';

const KEYS = 3000;

/** The real kvctl binary; stderr is a pipe, so no progress bar is expected there. */
const kvctl = (args: string[]) => runKvctl(args);

/** Runs `work` over `items` with at most `limit` at a time. */
async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

interface Expected {
  value: Buffer;
  ttl?: number;
}

/** The sequence number of every partition's leader, as the gate reports it. */
async function leaderSeqs(cluster: TestCluster): Promise<Record<string, number | null>> {
  const view = await cluster.clusterView();
  return Object.fromEntries(
    view.partitions.map((partition) => [partition.name, partition.members.find((member) => member.role === 'leader')?.lastSeq ?? null]),
  );
}

type Line = Record<string, unknown>;
const readLines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);

test('kvctl backup of a cluster restores into a fresh one, key for key', async (t) => {
  const dir = tempDir('backup');
  const source = await startCluster({ name: 'backup-src', partitions: 2, replicas: 2 });
  t.after(() => source.stop());
  const sourceHost = source.gateUrls[0]!.replace('http://', '');

  // ~3000 keys: text, binary (every byte value, empty too), and some with a ttl.
  const expected = new Map<string, Expected>();
  for (let index = 0; index < KEYS; index++) {
    const key = index % 500 === 0 ? `ключ/${index} with spaces?&` : `key-${index}`;
    if (index % 10 === 3) expected.set(key, { value: randomBytes(index % 200) });
    else if (index % 10 === 7) expected.set(key, { value: Buffer.from(`ttl value ${index}`), ttl: 600 });
    else expected.set(key, { value: Buffer.from(`value ${index}`) });
  }
  const sourceClient = new KvClient({ hosts: source.gateUrls });
  t.after(() => sourceClient.close());
  await inPool([...expected], 32, async ([key, { value, ttl }]) => {
    await sourceClient.put(key, value, { ttlSeconds: ttl });
  });
  // Overwritten and deleted keys: the backup holds the last state only.
  await sourceClient.put('key-1', 'overwritten');
  expected.set('key-1', { value: Buffer.from('overwritten') });
  await sourceClient.delete('key-2');
  expected.delete('key-2');

  const file = join(dir, 'cluster.backup');
  let lines: Line[] = [];
  await t.test('backup writes every partition at one sequence number', async () => {
    const seqs = await leaderSeqs(source);
    const result = await kvctl(['--host', sourceHost, 'backup', file, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress bar when stderr is not a terminal');
    const summary = JSON.parse(result.stdout.toString()) as { records: number; partitions: { partition: string; seq: number; records: number }[] };
    assert.equal(summary.records, expected.size);

    lines = readLines(file);
    const headers = lines.filter((line) => 'partition' in line);
    assert.deepEqual(headers.map((header) => header.partition).sort(), ['p0', 'p1']);
    for (const header of headers) {
      assert.equal(header.seq, seqs[header.partition as string], `partition ${header.partition} at its leader's last sequence number`);
      assert.ok((header.records as number) > KEYS / 4, 'both partitions hold keys');
    }
    assert.deepEqual(lines.at(-1)!.kvstore, 'backup');
    const records = lines.filter((line) => 'key' in line);
    assert.equal(records.length, expected.size);
    for (const record of records) {
      const want = expected.get(record.key as string);
      assert.ok(want, `unexpected key ${String(record.key)}`);
      assert.deepEqual(Buffer.from(record.value as string, 'base64'), want.value, String(record.key));
      assert.equal(record.expiresAt === null, want.ttl === undefined, `${String(record.key)}: expiry`);
    }
  });

  const target = await startCluster({ name: 'backup-dst', partitions: 2, replicas: 2 });
  t.after(() => target.stop());
  const targetHost = target.gateUrls[0]!.replace('http://', '');

  await t.test('a corrupted backup is refused with exit 4, and nothing is written', async () => {
    const before = await leaderSeqs(target);
    const corrupted = join(dir, 'corrupted.backup');
    const text = readFileSync(file, 'utf8').split('\n');
    // A flipped character deep in the file: everything before it is fine.
    const victim = text.length - 10;
    text[victim] = text[victim]!.replace('"value":"', '"value":"*');
    writeFileSync(corrupted, text.join('\n'));
    const result = await kvctl(['--host', targetHost, 'restore', corrupted]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /^kvctl: BAD_BACKUP: .* line \d+: value must be a base64 string\n$/);
    assert.deepEqual(await leaderSeqs(target), before, 'no write reached any partition');

    const truncated = join(dir, 'truncated.backup');
    writeFileSync(truncated, readFileSync(file).subarray(0, Math.floor(readFileSync(file).length / 2)));
    const cut = await kvctl(['--host', targetHost, 'restore', truncated]);
    assert.equal(cut.code, 4, cut.stderr);
    assert.deepEqual(await leaderSeqs(target), before, 'no write reached any partition');
  });

  await t.test('restore into a fresh cluster gives every key back, ttls still set', async () => {
    const result = await kvctl(['--host', targetHost, 'restore', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout.toString(), new RegExp(`^restored ${expected.size} of ${expected.size} records from .*\\n$`));

    const targetClient = new KvClient({ hosts: target.gateUrls });
    t.after(() => targetClient.close());
    const mismatches: string[] = [];
    await inPool([...expected], 32, async ([key, { value }]) => {
      const got = await targetClient.getOrNull(key);
      if (!got || !got.value.equals(value)) mismatches.push(key);
    });
    assert.deepEqual(mismatches, []);
    assert.equal(await targetClient.getOrNull('key-2'), null, 'a deleted key stays deleted');

    // The ttls are visible in a backup of the new cluster: each key expires when it did in the old one (to the second).
    const again = join(dir, 'again.backup');
    assert.equal((await kvctl(['--host', targetHost, 'backup', again])).code, 0);
    const original = new Map(lines.filter((line) => 'key' in line).map((line) => [line.key, line.expiresAt as number | null]));
    const copies = readLines(again).filter((line) => 'key' in line);
    assert.equal(copies.length, expected.size);
    for (const copy of copies) {
      const was = original.get(copy.key);
      if (was === null) assert.equal(copy.expiresAt, null, String(copy.key));
      else {
        assert.equal(typeof copy.expiresAt, 'number', `${String(copy.key)} still has a ttl`);
        assert.ok(Math.abs((copy.expiresAt as number) - was!) <= 2000, `${String(copy.key)} keeps its expiry`);
      }
    }
  });
});
