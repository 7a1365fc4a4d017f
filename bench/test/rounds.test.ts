import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Row } from '../src/cluster/measure';
import { median, summarize } from '../src/cluster/rounds';

/** A rounds row of `entrant` in round `number`: req/s, p50, p99, and CPU seconds per 10k of a gate and the client. */
function row(entrant: string, number: number, reqPerSec: number, failure?: string): Row {
  return {
    name: `GET [${entrant}]`,
    group: 'rounds',
    connections: 8,
    durationS: 1,
    round: { comparison: 'GET', entrant, number },
    ...(failure === undefined
      ? { reqPerSec, latencyMs: { p50: number / 2, p99: number, p99_9: 3, max: 4 }, cpuPer10k: { gate: number, leader: 1, client: 0.5 } }
      : { failure }),
  };
}

test('median of an odd and of an even count', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('each ratio pairs an entrant with the reference of the same round, and a round either side lost is left out', () => {
  const rows = [
    row('plain', 1, 100),
    row('tls', 1, 50),
    row('tls', 2, 90),
    row('plain', 2, 100, 'no request was answered'),
    row('plain', 3, 200),
    row('tls', 3, 150),
    // Another comparison's row, and one of an entrant not asked about: neither counts.
    { ...row('tls', 1, 1), round: { comparison: 'PUT', entrant: 'tls', number: 1 } },
    row('auth', 1, 1000),
  ];
  const summary = summarize(rows, { workload: 'GET', entrants: [{ label: 'plain' }, { label: 'tls' }] });
  assert.equal(summary.reference, 'plain');
  const [plain, tls] = summary.entrants as [(typeof summary.entrants)[number], (typeof summary.entrants)[number]];
  assert.deepEqual({ ran: plain.ran, reqPerSec: plain.reqPerSec, ratio: plain.ratio }, { ran: 2, reqPerSec: 150, ratio: undefined });
  assert.equal(tls.ran, 3);
  assert.equal(tls.reqPerSec, 90);
  assert.deepEqual(tls.ratio, { rounds: [0.5, 0.75], median: 0.625, min: 0.5, max: 0.75 });
  // Medians over the rounds it ran: p99 and gate CPU are the round number here (p50 half of it); servers sum every kind but the client.
  assert.equal(tls.p50, 1);
  assert.equal(tls.p99, 2);
  assert.deepEqual(tls.cpuPer10k, { gate: 2, leader: 1, client: 0.5, servers: 3 });
});
