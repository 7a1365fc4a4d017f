import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGate, SAMPLE_CLUSTER } from '@kvstore/kvclient/testing';
import type { MigrationView } from '@kvstore/kvclient';
import { formatDuration } from '../src/format';
import { kvctlAt } from './harness';

describe('kvctl: growing and shrinking the cluster', () => {
  let gate: FakeGate;
  const { kvctl, out } = kvctlAt(() => gate.host);
  /** Moves the migration on by `step` slots at every poll, and ends it in `end` once all have moved. */
  const advancing = (step: number, end: 'done' | 'aborted') => (view: MigrationView): MigrationView => {
    const slotsMoved = Math.min(view.slotsTotal, view.slotsMoved + step);
    const state = slotsMoved === view.slotsTotal ? end : view.state;
    return { ...view, slotsMoved, keysMoved: slotsMoved * 10, keysPerSecond: 100, etaSeconds: 3, state };
  };

  before(async () => {
    gate = await FakeGate.start();
  });
  after(() => gate.close());
  beforeEach(() => {
    gate.migration = null;
    gate.onMigrationRead = null;
    gate.forcedRemovalKeys = null;
    gate.cluster = SAMPLE_CLUSTER;
  });

  test('add-partition, remove-partition and rebalance start a migration and say so; --json prints it', async () => {
    assert.equal(await out(['cluster', 'add-partition', 'p2']), 'started migration m-1 (add p2): running, 0/1,024 slots, 0 keys, 0 keys/s, ETA unknown, pauses 0 ms mean, 0 ms worst\n');
    gate.migration = null;
    assert.match(await out(['cluster', 'remove-partition', 'p1']), /^started migration m-\d+ \(remove p1\): running, /);
    gate.migration = null;
    const json = JSON.parse(await out(['cluster', 'rebalance', '--json'])) as MigrationView;
    assert.deepEqual([json.kind, json.partition, json.state], ['rebalance', null, 'running']);
    assert.ok(gate.requests.includes('POST /v1/admin/partitions/p2'));
    assert.ok(gate.requests.includes('DELETE /v1/admin/partitions/p1'));
  });

  test("a refused change exits 4 with the gate's reason: one migration at a time, known partitions only", async () => {
    await out(['cluster', 'add-partition', 'p2']);
    const busy = await kvctl(['cluster', 'rebalance']);
    assert.equal(busy.code, 4);
    assert.match(busy.stderr, /^kvctl: CONFLICT: migration m-\d+ is running: wait for it to finish, or abort it\n$/);
    gate.migration = null;
    const unknown = await kvctl(['cluster', 'remove-partition', 'p9']);
    assert.equal(unknown.code, 4);
    assert.equal(unknown.stderr, 'kvctl: BAD_REQUEST: partition p9 is not on the ring\n');
    for (const argv of [['cluster', 'add-partition'], ['migration', 'status', '--interval', '0'], ['migration', 'bogus']]) {
      assert.equal((await kvctl(argv)).code, 2, argv.join(' '));
    }
  });

  test('remove-partition --force says how many slots and keys it gave up, or that the key count is unknown', async () => {
    assert.equal(
      await out(['cluster', 'remove-partition', 'p1', '--force']),
      'removed p1 by force (ring version 3): gave up 2,048 slots; how many keys is unknown (no replica of p1 answered)\n',
    );
    gate.forcedRemovalKeys = 5000;
    assert.equal(await out(['cluster', 'remove-partition', 'p1', '--force']), 'removed p1 by force (ring version 3): gave up 2,048 slots and 5,000 keys\n');
    assert.deepEqual(JSON.parse(await out(['cluster', 'remove-partition', 'p1', '--force', '--json'])), {
      partition: 'p1',
      ringVersion: 3,
      slotsGivenUp: 2048,
      keysGivenUp: 5000,
    });
  });

  test('migration status shows the migration, its blocked sources, or that there has been none; abort aborts it', async () => {
    assert.equal(await out(['migration', 'status']), 'no migration has run\n');
    assert.equal(await out(['migration', 'status', '--json']), 'null\n');
    const abortNothing = await kvctl(['migration', 'abort']);
    assert.equal(abortNothing.code, 4);
    assert.match(abortNothing.stderr, /^kvctl: CONFLICT: /);

    await out(['cluster', 'add-partition', 'p2']);
    gate.migration = { ...gate.migration!, slotsMoved: 300, keysMoved: 12_345, keysPerSecond: 2000, etaSeconds: 184, pauseMsMax: 41, pauseMsMean: 20, blocked: [{ partition: 'p0', reason: 'p2 has no leader' }] };
    const id = gate.migration.id;
    assert.equal(
      await out(['migration', 'status']),
      `migration ${id} (add p2): running, 300/1,024 slots, 12,345 keys, 2,000 keys/s, ETA 3m 4s, pauses 20 ms mean, 41 ms worst\n  blocked at p0: p2 has no leader\n`,
    );
    assert.match(await out(['migration', 'abort']), new RegExp(`^aborting migration ${id} \\(add p2\\): aborting, `));
    assert.equal(gate.migration.state, 'aborting');
  });

  test('migration status --watch prints a line at each change until it is done, and exits 0', async () => {
    await out(['cluster', 'add-partition', 'p2']);
    gate.onMigrationRead = advancing(512, 'done');
    const lines = (await out(['migration', 'status', '--watch', '--interval', '1'])).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.replace(/^migration m-\d+ \(add p2\): /, '')),
      [
        'running, 512/1,024 slots, 5,120 keys, 100 keys/s, ETA 3s, pauses 0 ms mean, 0 ms worst',
        'done, 1,024/1,024 slots, 10,240 keys, pauses 0 ms mean, 0 ms worst',
      ],
    );
  });

  test('migration status --watch --json prints the migration as JSON at each change', async () => {
    await out(['cluster', 'add-partition', 'p2']);
    gate.onMigrationRead = advancing(1024, 'done');
    const views = (await out(['migration', 'status', '--watch', '--json', '--interval', '1'])).trimEnd().split('\n').map((line) => JSON.parse(line) as MigrationView);
    assert.deepEqual(views.map((view) => [view.state, view.slotsMoved]), [['done', 1024]]);
  });

  test('migration status --watch draws a progress bar on a terminal, then prints the last state', async () => {
    await out(['cluster', 'add-partition', 'p2']);
    gate.onMigrationRead = advancing(256, 'done');
    const result = await kvctl(['migration', 'status', '--watch', '--interval', '1'], { stderrIsTTY: true });
    assert.equal(result.code, 0);
    assert.match(result.stderr, /\rmigration m-\d+ \(add p2\) running \[######\.{18}\] 256\/1,024 slots {2}2,560 keys {2}100 keys\/s {2}ETA 3s {2}worst pause 0 ms\x1b\[K/);
    assert.match(result.stderr, /\[##################\.{6}\] 768\/1,024 slots/);
    assert.ok(result.stderr.endsWith('\r\x1b[K'), 'the bar is cleared at the end');
    assert.match(result.stdout.toString(), /^migration m-\d+ \(add p2\): done, 1,024\/1,024 slots, 10,240 keys, pauses 0 ms mean, 0 ms worst\n$/);
  });

  test('migration status --watch exits 4 when the migration ends aborted', async () => {
    await out(['cluster', 'add-partition', 'p2']);
    gate.onMigrationRead = advancing(2048, 'aborted');
    const result = await kvctl(['migration', 'status', '--watch', '--interval', '1']);
    assert.equal(result.code, 4);
    assert.match(result.stdout.toString(), /\(add p2\): aborted, /);
    assert.match(result.stderr, /^kvctl: ABORTED: migration m-\d+ was aborted\n$/);
  });

  test('cluster status shows the migration under its first line', async () => {
    await out(['cluster', 'add-partition', 'p2']);
    gate.cluster = { ...SAMPLE_CLUSTER, migration: gate.migration };
    const lines = (await out(['cluster', 'status'])).split('\n');
    assert.match(lines[1]!, /^migration m-\d+ \(add p2\): running, 0\/1,024 slots/);
    assert.match(lines[3]!, /^PARTITION\s+SLOTS\s+EPOCH/);
  });

  test('the shell takes the same commands', async () => {
    const result = await kvctl(['-i'], { stdin: 'cluster add-partition p2\nmigration status\nmigration abort\n', env: { KVCTL_HISTORY: '/dev/null' } });
    assert.equal(result.code, 0);
    const shown = result.stdout.toString();
    assert.match(shown, /kv> started migration m-\d+ \(add p2\): running/);
    assert.match(shown, /kv> migration m-\d+ \(add p2\): running/);
    assert.match(shown, /kv> aborting migration m-\d+/);
  });
});

test('durations read as a person would say them', () => {
  assert.deepEqual([null, 0, 5, 184, 3720].map(formatDuration), ['unknown', '0s', '5s', '3m 4s', '1h 2m']);
});
