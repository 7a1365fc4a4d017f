import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runClientLoad } from '../src/cluster/client-load';
import type { RequestShape } from '../src/cluster/load';

test('a client load sends each request of an exact amount once, at most `connections` at a time, and tallies what came back', async () => {
  let inFlight = 0;
  let mostInFlight = 0;
  let made = 0;
  const sent: string[] = [];
  const next = (): RequestShape => ({ method: 'GET', path: `/v1/kv/k${made++}` });
  const result = await runClientLoad({ url: 'unused', connections: 4, amount: 30, next }, async (request) => {
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    sent.push(request.path);
    const n = Number(request.path.slice('/v1/kv/k'.length));
    if (n % 10 === 9) throw new Error('no answer');
    return n % 5 === 0 ? 404 : 200;
  });
  assert.equal(sent.length, 30);
  assert.equal(new Set(sent).size, 30);
  assert.equal(mostInFlight, 4);
  assert.equal(result.connectionErrors, 3);
  assert.equal(result.requests, 27);
  assert.deepEqual(result.statusCodes, { 200: 21, 404: 6 });
  assert.equal(result.non2xx, 6);
  assert.equal(result.errors, 9);
});
