import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ClusterAuth } from '@kvstore/cluster';
import { MemoryZooKeeper } from '@kvstore/cluster/testing';
import { clusterPaths, encodeRecord, parseState, placeSlots, ringRecord } from '@kvstore/protocol';
import request from 'supertest';
import { memberAdmin } from '../src/cluster/member-admin';
import { createApp } from '../src/http/app';
import { ClusterWatcher } from '../src/zk/cluster-watcher';
import { memoryWatcher, until, urlOf } from './fixtures';

const CLUSTER = 'green';
const paths = clusterPaths(CLUSTER);
let watcher: ClusterWatcher | undefined;

afterEach(() => watcher?.stop());

/** The member admin wired as gate.ts wires it, on an in-memory ZooKeeper: p0 has members x and y, no leader, and x taken out. */
async function gate() {
  const zk = new MemoryZooKeeper();
  zk.write(paths.ring, encodeRecord(ringRecord(1, placeSlots(['p0']))));
  zk.write(paths.state('p0'), encodeRecord({ epoch: 3, leader: null, isr: ['y'], excluded: ['x'] }));
  for (const [index, id] of ['x', 'y'].entries()) zk.write(`${paths.members('p0')}/m-000000000${index}`, encodeRecord({ id, url: urlOf(id) }));
  const { watcher: current, routing } = memoryWatcher(zk, CLUSTER);
  watcher = current;
  await current.start();
  await until(() => routing.snapshot().partitions.get('p0')?.members.length === 2, 'p0 and its members');
  const app = createApp({
    forwarder: { forward: () => Promise.reject(new Error('no kv requests here')) },
    maxValueBytes: 16,
    clusterView: () => Promise.reject(new Error('no cluster view here')),
    readiness: () => current.readiness(),
    members: memberAdmin({
      cluster: CLUSTER,
      zookeeper: () => current.zookeeper(),
      snapshot: () => routing.snapshot(),
      changed: (timeoutMs) => routing.changed(timeoutMs),
      auth: new ClusterAuth(Buffer.from('a test secret of enough bytes')),
    }),
  });
  return { zk, app };
}

function assertError(response: request.Response, status: number, code: string, message: RegExp): void {
  assert.equal(response.status, status, `${response.status}: ${response.text}`);
  assert.equal(response.body.error.code, code);
  assert.match(response.body.error.message, message);
}

describe('member admin routes', () => {
  it('restores a removed replica by compare-and-set on /state, with no leader needed', async () => {
    const { zk, app } = await gate();
    const response = await request(app).post('/v1/admin/partitions/p0/members/x/restore');
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { partition: 'p0', member: 'x', isr: ['y'], excluded: [] });
    assert.deepEqual(parseState(zk.get(paths.state('p0'))!.data), { epoch: 3, leader: null, isr: ['y'] });
    const again = await request(app).post('/v1/admin/partitions/p0/members/x/restore');
    assert.equal(again.status, 200, 'restoring twice changes nothing');
  });

  it('refuses bad input with a 4xx and changes nothing', async () => {
    const { zk, app } = await gate();
    const before = zk.get(paths.state('p0'))!.data.toString();
    assertError(await request(app).post('/v1/admin/partitions/p0/members/nobody/restore'), 404, 'NOT_FOUND', /nobody is not a member of partition p0/);
    assertError(await request(app).post('/v1/admin/partitions/p9/members/x/restore'), 404, 'NOT_FOUND', /no partition p9/);
    assertError(await request(app).post('/v1/admin/partitions/p0/members/%2Fbad/remove'), 400, 'BAD_REQUEST', /replica id/);
    assertError(await request(app).post('/v1/admin/partitions/p0/leader-transfer?timeoutMs=0'), 400, 'BAD_REQUEST', /timeoutMs must be an integer/);
    assertError(await request(app).post('/v1/admin/partitions/p0/leader-transfer?to=a&to=b'), 400, 'BAD_REQUEST', /to must be one replica id/);
    assert.equal(zk.get(paths.state('p0'))!.data.toString(), before);
  });

  it('answers 503 for a transfer or a removal while the partition has no leader', async () => {
    const { app } = await gate();
    assertError(await request(app).post('/v1/admin/partitions/p0/leader-transfer'), 503, 'UNAVAILABLE', /has no leader/);
    assertError(await request(app).post('/v1/admin/partitions/p0/members/y/remove'), 503, 'UNAVAILABLE', /has no leader/);
  });
});
