import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { Ring } from '@kvstore/protocol';
import { REPLICA_TIMEOUT_MS } from '../src/cluster';
import type { HistoryOperation } from '../src/history';
import { LAG_MS, planFaults } from '../src/nemesis/nemesis';
import { LockWorkload, timesLagKill } from '../src/workload/locks';
import { HistoryRecorder } from '../src/workload/recorder';

describe('lag-kill plan', () => {
  test('always the leader, a lag within LAG_MS below the replica timeout, held past the session timeout', () => {
    const plan = planFaults(3, ['lag-kill'], 120_000, 2000);
    assert.ok(plan.length > 5);
    for (const fault of plan) {
      assert.equal(fault.role, 'leader');
      assert.ok(fault.lagMs !== undefined && fault.lagMs >= LAG_MS[0] && fault.lagMs <= LAG_MS[1], `lag ${fault.lagMs}`);
      assert.ok(fault.holdMs > 2000, `held ${fault.holdMs} ms`);
    }
    assert.ok(LAG_MS[1] < REPLICA_TIMEOUT_MS);
    assert.ok(planFaults(3, ['kill', 'pause', 'partition'], 120_000, 2000).every((fault) => fault.lagMs === undefined));
  });
});

describe('the lock write a lag-kill is timed on', () => {
  const op = (fields: Partial<HistoryOperation>): HistoryOperation => ({ id: 1, client: 0, key: 'lock-0', kind: 'cas', invokedAt: 0, completedAt: 5, outcome: 'ok', ...fields });

  test('an acknowledged conditional PUT without a lease, and nothing else', () => {
    assert.ok(timesLagKill(op({ expected: null, value: 'L0-1' })));
    assert.ok(timesLagKill(op({ expected: 'L0-1', value: 'L0-2' })));
    assert.ok(!timesLagKill(op({ expected: null, value: 'L0-1', ttlSeconds: 2 })), 'a lease running out would explain a second create');
    assert.ok(!timesLagKill(op({ outcome: 'fail' })));
    assert.ok(!timesLagKill(op({ outcome: 'unknown', completedAt: undefined })));
    assert.ok(!timesLagKill(op({ kind: 'delete', expected: 'L0-1' })));
    assert.ok(!timesLagKill(op({ kind: 'write', value: 'x' })));
  });

  test('nextAcknowledgedWrite resolves with the next one on the partition, or undefined in time', async (t) => {
    // A gate that takes every write and finds nothing to read.
    let version = 0;
    const gate = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.method === 'GET') response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND"}}');
        else response.writeHead(200, { etag: `"${++version}"` }).end();
      });
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      gate.closeAllConnections();
      return new Promise((resolve) => gate.close(resolve));
    });
    const url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
    const ring = new Ring({ version: 1, partitions: ['p0', 'p1'] });
    const recorder = new HistoryRecorder({ gateUrls: () => [url, url], ring });
    const locks = new LockWorkload({
      seed: 5,
      clients: 2,
      firstClient: 0,
      recorder,
      ring,
      partitions: ['p0', 'p1'],
      replicas: () => [],
      leaderOf: async () => undefined,
    });

    assert.equal(await locks.nextAcknowledgedWrite('p0', 50), undefined, 'nothing runs yet');
    const running = locks.run(Date.now() + 60_000);
    const write = await locks.nextAcknowledgedWrite('p1', 30_000);
    locks.stop();
    await running;
    assert.ok(write, 'no lock write was acknowledged');
    assert.equal(write.partition, 'p1');
    assert.ok(timesLagKill(write));
    assert.ok(locks.keysOf('p1').includes(write.key));
    assert.ok(recorder.operations.includes(write));
  });
});
