import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ClusterAuth } from '@kvstore/cluster';
import { textBody } from '@kvstore/cluster/testing';
import { SLOT_COUNT, clusterPaths } from '@kvstore/protocol';
import request from 'supertest';
import { createApp } from '../src/http/app';
import { ImportReceiver } from '../src/migration/import-receiver';
import { readSnapshot } from '../src/wire/snapshot-stream';
import { silentLogger } from '../src/replication/types';
import { SimCluster } from './support/sim-cluster';
import { keysOfOneSlot } from './support/slot-keys';

const auth = new ClusterAuth(Buffer.from('the secret of this test cluster'));

function appOf(sim: SimCluster, id: string) {
  return createApp({
    replica: sim.replica(id),
    partition: 'p0',
    maxValueBytes: 1024,
    logger: silentLogger,
    auth,
    routing: { ringVersion: 1, beforeWrite: () => undefined, check: () => {} },
    imports: new ImportReceiver({ partition: 'p0', replica: sim.replica(id), paths: clusterPaths('t'), records: { zk: () => undefined } }),
    notReadyBecause: () => undefined,
  }).http;
}

/** The body as text, whatever its content type. */
const getText = (app: ReturnType<typeof appOf>, path: string) =>
  request(app)
    .get(path)
    .buffer(true)
    .parse(textBody);

describe('http: GET /v1/admin/snapshot', () => {
  it('the leader streams its state at one sequence number as NDJSON, readable by the follower reader', async () => {
    const sim = await SimCluster.started(['a', 'b']);
    const leader = sim.replica('a');
    await leader.put('plain', Buffer.from('one'), undefined, {});
    await leader.put('binary', Buffer.from([0, 255, 10]), undefined, {});
    await leader.put('ttl', Buffer.from('t'), 60, {});
    await leader.put('gone', Buffer.from('x'), undefined, {});
    await leader.delete('gone', {});
    await sim.settle();

    const response = await getText(appOf(sim, 'a'), '/v1/admin/snapshot');
    assert.equal(response.status, 200, String(response.body));
    assert.match(String(response.headers['content-type']), /application\/x-ndjson/);
    assert.equal(response.headers['x-kv-partition'], 'p0');
    assert.equal(response.headers['x-kv-replica'], 'a');
    const lines = String(response.body)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines[0], { partition: 'p0', seq: leader.lastSeq, epoch: leader.epoch, slots: { fenced: [], versionOffset: 0 }, keys: 3 });
    assert.deepEqual(lines.at(-1), { end: 3 });
    const records = new Map(lines.slice(1, -1).map((line) => [line.key, line]));
    assert.deepEqual([...records.keys()].sort(), ['binary', 'plain', 'ttl']);
    assert.deepEqual(Buffer.from(records.get('binary').value, 'base64'), Buffer.from([0, 255, 10]));
    assert.equal(records.get('plain').expiresAt, null);
    assert.equal(records.get('ttl').expiresAt, sim.clock.now() + 60_000);

    const read = await readSnapshot(Readable.from([String(response.body)]));
    assert.equal(read.seq, leader.lastSeq);
    let count = 0;
    for await (const chunk of read.chunks) count += chunk.length;
    assert.equal(count, 3);
  });

  it('leaves out the slots that moved away (their keys wait for the purge), whichever slots have moved', async () => {
    const sim = await SimCluster.started(['a', 'b']);
    const leader = sim.replica('a');
    const taken = new Set<number>();
    const moved = keysOfOneSlot('moved-', 1, taken);
    const kept = keysOfOneSlot('kept-', 1, taken);
    await leader.put(moved.keys[0]!, Buffer.from('stale copy'), undefined, {});
    await leader.put(kept.keys[0]!, Buffer.from('ours'), undefined, {});
    // Every slot but the kept one has moved away, the one of the leadership probe's key too.
    const others = Array.from({ length: SLOT_COUNT }, (_, slot) => slot).filter((slot) => slot !== kept.slot);
    await leader.currentLeadership!.confirm({ type: 'fence', slots: others });
    await sim.settle();
    const response = await getText(appOf(sim, 'a'), '/v1/admin/snapshot');
    assert.equal(response.status, 200, String(response.body));
    const lines = String(response.body)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines.slice(1, -1).map((line) => line.key), [kept.keys[0]]);
    assert.deepEqual(lines.at(-1), { end: 1 });
  });

  it('a follower answers 421 NOT_LEADER with the leader’s url', async () => {
    const sim = await SimCluster.started(['a', 'b']);
    const response = await request(appOf(sim, 'b')).get('/v1/admin/snapshot');
    assert.equal(response.status, 421, response.text);
    assert.match(String(response.headers['content-type']), /application\/json/);
    assert.equal(response.body.error.code, 'NOT_LEADER');
    assert.equal(response.body.error.leader, sim.url('a'));
  });

  it('only GET', async () => {
    const sim = await SimCluster.started(['a']);
    const response = await request(appOf(sim, 'a')).post('/v1/admin/snapshot');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'NOT_FOUND');
  });
});
