import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockOffsets } from '../src/clock-skew';
import { ConfigError } from '@kvstore/cluster';
import { FAULT_KINDS, parseOptions } from '../src/options';

describe('chaos options', () => {
  test('defaults: every fault (forge and lag-kill included), lock clients, sync replication, no clock skew', () => {
    const options = parseOptions([], '/repo', new Date(0));
    assert.deepEqual(options.faults, [...FAULT_KINDS]);
    assert.ok(options.faults.includes('forge'));
    assert.ok(options.faults.includes('lag-kill'));
    assert.equal(options.lockClients, 6);
    assert.equal(options.replication, 'sync');
    assert.equal(options.clockSkewMs, 0);
  });

  test('--replication, --clock-skew-ms, --lock-clients', () => {
    const options = parseOptions(['--replication', 'async', '--clock-skew-ms=2000', '--lock-clients', '0'], '/repo');
    assert.equal(options.replication, 'async');
    assert.equal(options.clockSkewMs, 2000);
    assert.equal(options.lockClients, 0);
    assert.throws(() => parseOptions(['--replication', 'quorum'], '/repo'), ConfigError);
    assert.throws(() => parseOptions(['--clock-skew-ms', '-5'], '/repo'), ConfigError);
    assert.throws(() => parseOptions(['--faults', 'kill,forgery'], '/repo'), /unknown fault forgery/);
  });

  test('--zk-ensemble: 3 members when the zk-member fault is on, else a standalone server; zk-member refuses fewer than 3', () => {
    assert.equal(parseOptions([], '/repo').zkEnsemble, 3);
    assert.equal(parseOptions(['--faults', 'zk-member'], '/repo').zkEnsemble, 3);
    assert.equal(parseOptions(['--faults', 'kill,zk'], '/repo').zkEnsemble, 1);
    assert.equal(parseOptions(['--faults', 'kill', '--zk-ensemble', '3'], '/repo').zkEnsemble, 3);
    assert.equal(parseOptions(['--faults', 'zk-member', '--zk-ensemble', '5'], '/repo').zkEnsemble, 5);
    assert.throws(() => parseOptions(['--faults', 'zk-member', '--zk-ensemble', '1'], '/repo'), /zk-member needs --zk-ensemble 3 or more/);
    assert.throws(() => parseOptions(['--zk-ensemble', '0'], '/repo'), ConfigError);
  });
});

describe('clock offsets', () => {
  test('each partition spreads its replicas over [-skew, +skew], the same for the same seed', () => {
    const offsets = clockOffsets(42, 2, 3, 1500);
    for (const p of ['p0', 'p1']) {
      const mine = [1, 2, 3].map((r) => offsets.get(`${p}-r${r}`));
      assert.deepEqual([...mine].sort((a, b) => a! - b!), [-1500, 0, 1500]);
    }
    assert.deepEqual(clockOffsets(42, 2, 3, 1500), offsets);
    assert.equal(clockOffsets(42, 2, 3, 0).size, 0);
  });
});
