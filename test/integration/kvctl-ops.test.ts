import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runKvctl, startCluster } from '@kvstore/testkit';

test('kvctl operator commands against a real cluster', async (t) => {
  // A killed replica stays registered for the session timeout: long enough for health to find it and ask it.
  const cluster = await startCluster({ name: 'kvctl-ops', partitions: 2, replicas: 2, persistent: false, sessionTimeoutMs: 20_000 });
  t.after(() => cluster.stop());
  const host = ['--host', cluster.gateUrls[0]!];
  const kvctl = async (args: string[]) => {
    const run = await runKvctl([...host, ...args]);
    return { ...run, out: run.stdout.toString() };
  };

  await t.test('--version prints the version of kvctl and of Node.js', async () => {
    const run = await runKvctl(['--version']);
    assert.equal(run.code, 0);
    assert.match(run.stdout.toString(), /^kvctl \d+\.\d+\.\d+\S*\nnode v\d+\.\d+\.\d+\n$/);
  });

  await t.test('health: the gate, both partitions and all four replicas ready, exit 0', async () => {
    const run = await kvctl(['health', '--output', 'plain']);
    assert.equal(run.code, 0, `${run.out}${run.stderr}`);
    const rows = run.out.trimEnd().split('\n').map((line) => line.split('\t'));
    assert.deepEqual(rows.map((row) => `${row[0]} ${row[1]} ${row[2]}`).sort(), [
      'gate - -',
      'partition p0 -',
      'partition p1 -',
      'replica p0 p0-r1',
      'replica p0 p0-r2',
      'replica p1 p1-r1',
      'replica p1 p1-r2',
    ]);
    assert.ok(rows.every((row) => row[4] === 'yes' && row[5] === '-'), run.out);
  });

  await t.test('--output table, plain and json (and --json) for put, get and cluster status', async () => {
    const put = await kvctl(['put', 'ops-key', 'ops value', '--output', 'json']);
    const { version } = JSON.parse(put.out) as { version: number };
    assert.match((await kvctl(['put', 'ops-key', 'ops value', '-o', 'table'])).out, new RegExp(`^KEY\\s+VERSION\\nops-key\\s+${version + 1}\\n$`));
    const [key, seen, partition, replica, encoding, value] = (await kvctl(['get', 'ops-key', '-o', 'plain'])).out.trimEnd().split('\t');
    assert.deepEqual([key, seen, encoding, value], ['ops-key', String(version + 1), 'utf8', 'ops value']);
    assert.match(partition!, /^p[01]$/);
    assert.ok(replica!.startsWith(`${partition}-r`));
    const status = await kvctl(['cluster', 'status', '-o', 'plain']);
    assert.equal(status.out.trimEnd().split('\n').length, 4, 'a row per replica');
    assert.deepEqual((JSON.parse((await kvctl(['cluster', 'status', '--json'])).out) as { cluster: string }).cluster, cluster.name);
  });

  await t.test('health after SIGKILL of a follower: unreachable, exit 1', async () => {
    const view = await cluster.clusterView();
    const p0 = view.partitions.find((partition) => partition.name === 'p0')!;
    const follower = p0.members.find((member) => member.id !== p0.leader)!;
    await cluster.servers.get(follower.id)!.process.kill();
    const run = await kvctl(['health', '-o', 'plain']);
    assert.equal(run.code, 1, run.out);
    const row = run.out.split('\n').find((line) => line.startsWith(`replica\tp0\t${follower.id}\t`));
    assert.equal(row, `replica\tp0\t${follower.id}\t${follower.url}\tno\tunreachable: ECONNREFUSED`);
    assert.equal(run.stderr, `kvctl: NOT_READY: 1 of 7 not ready: ${follower.id}\n`);
  });
});
