import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGate, refusingHost } from '@kvstore/kvclient/testing';
import type { ClusterView } from '@kvstore/kvclient';
import { runKvctl } from './harness';

/** A replica that is live but not ready, answering as the real one does. */
async function notReadyReplica(message: string): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    if (request.url === '/healthz') return void response.end('{"ok":true}');
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const urlOf = (server: http.Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('kvctl health', () => {
  let gate: FakeGate;
  let ready: FakeGate;
  let hanging: FakeGate;
  let unready: http.Server;
  let refusing: string;

  const cluster = (partitions: ClusterView['partitions']): ClusterView => ({
    cluster: 'default',
    ring: { version: 1, partitions: partitions.map((partition) => partition.name) },
    partitions,
  });
  const member = (id: string, url: string) => ({ id, url, role: 'follower' as const, lastSeq: 1, lag: 0 });

  before(async () => {
    [gate, ready, hanging, unready, refusing] = await Promise.all([
      FakeGate.start(),
      FakeGate.start(),
      FakeGate.start(),
      notReadyReplica('not registered in ZooKeeper yet'),
      refusingHost(),
    ]);
    hanging.fault = { kind: 'hang' };
  });
  after(async () => {
    unready.closeAllConnections();
    unready.close();
    await Promise.all([gate.close(), ready.close(), hanging.close()]);
  });

  test('all ready: a row per gate, partition and replica, exit 0', async () => {
    gate.cluster = cluster([{ name: 'p0', epoch: 1, leader: 'r1', isr: ['r1'], members: [member('r1', `http://${ready.host}`)] }]);
    const result = await runKvctl(['--host', gate.host, 'health', '-o', 'plain']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(result.stdout.toString().trimEnd().split('\n').map((line) => line.split('\t')), [
      ['gate', '-', '-', `http://${gate.host}`, 'yes', '-'],
      ['partition', 'p0', '-', '-', 'yes', '-'],
      ['replica', 'p0', 'r1', `http://${ready.host}`, 'yes', '-'],
    ]);
  });

  test('says why each one is not ready, and exits 1 naming them', async () => {
    gate.cluster = cluster([
      {
        name: 'p0',
        epoch: 2,
        leader: 'r1',
        isr: ['r1', 'r2', 'r9'],
        members: [
          member('r1', `http://${ready.host}`),
          member('r2', urlOf(unready)),
          member('r3', `http://${refusing}`),
          member('r4', `http://${hanging.host}`),
          // A port fetch() would refuse to try: the probe must still ask it.
          member('r5', 'http://127.0.0.1:1'),
        ],
      },
      { name: 'p1', epoch: 1, leader: null, isr: [], members: [] },
    ]);
    const result = await runKvctl(['--host', `${gate.host},${refusing}`, 'health', '--probe-timeout', '300', '--json']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'kvctl: NOT_READY: 7 of 9 not ready: ' + `http://${refusing}, p0, r2, r3, r4, r5, p1\n`);
    const report = JSON.parse(result.stdout.toString()) as { ready: boolean; checks: Array<{ url: string | null; id: string | null; partition: string | null; ready: boolean; reason: string | null }> };
    assert.equal(report.ready, false);
    const reasons = Object.fromEntries(report.checks.map((check) => [check.id ?? check.partition ?? check.url, check.reason]));
    assert.deepEqual(reasons, {
      [`http://${gate.host}`]: null,
      [`http://${refusing}`]: 'unreachable: ECONNREFUSED',
      p0: 'in sync but not registered: r9',
      r1: null,
      r2: 'not registered in ZooKeeper yet',
      r3: 'unreachable: ECONNREFUSED',
      r4: 'timeout',
      r5: 'unreachable: ECONNREFUSED',
      p1: 'no leader',
    });
  });

  test('no gate answers: each gate unreachable and no cluster view, in a table by default', async () => {
    const result = await runKvctl(['--host', refusing, 'health']);
    assert.equal(result.code, 1);
    const lines = result.stdout.toString().trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND\s+PARTITION\s+ID\s+URL\s+READY\s+REASON$/);
    assert.match(lines[1]!, /^gate\s+-\s+-\s+http:\/\/127\.0\.0\.1:\d+\s+no\s+unreachable: ECONNREFUSED$/);
    assert.match(lines[2]!, /^cluster\s+-\s+-\s+-\s+no\s+no cluster view: UNAVAILABLE: no gate answered/);
    assert.equal(lines.length, 3);
  });

  test('works in the shell: a line not ready is reported and the shell goes on', async () => {
    gate.cluster = cluster([{ name: 'p0', epoch: 1, leader: null, isr: [], members: [] }]);
    const result = await runKvctl(['--host', gate.host, '-i'], { stdin: 'health -o plain\nput k v\n', env: { KVCTL_HISTORY: '/dev/null' } });
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /partition\tp0\t-\t-\tno\tno leader\nkv> \d+\n/);
    assert.equal(result.stderr, 'kvctl: NOT_READY: 1 of 2 not ready: p0\n');
  });
});
