import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ring } from '@kvstore/protocol';
import request from 'supertest';
import { createApp } from '../src/http/app';
import { RoutingTable } from '../src/routing/routing-table';
import { routingView } from '../src/routing/routing-view';
import { EMPTY_SNAPSHOT } from '../src/routing/snapshot';
import { keys, snapshotOf, urlOf } from './fixtures';

const snapshot = snapshotOf({ p0: { members: ['b', 'a'], leader: 'a', epoch: 4 }, p1: { members: ['c'] } }, { version: 3 });

describe('GET /v1/routing', () => {
  it('gives the ring record and each partition’s leader, in-sync set and live members, routing every key as the gate does', () => {
    const view = routingView(snapshot);
    assert.ok(view);
    assert.deepEqual(view.partitions.p0, { epoch: 4, leader: { id: 'a', url: urlOf('a') }, isr: ['b', 'a'], members: [{ id: 'a', url: urlOf('a') }, { id: 'b', url: urlOf('b') }] });
    assert.equal(view.partitions.p1?.leader, null);
    const ring = new Ring(view.ring);
    const table = new RoutingTable(snapshot);
    for (const key of keys(200)) assert.equal(ring.ownerOf(key), table.route(key)?.partition);
  });

  it('is served without asking any replica, and is 503 before a ring is loaded', async () => {
    let current = EMPTY_SNAPSHOT;
    const app = createApp({
      forwarder: { forward: () => Promise.reject(new Error('not used')) },
      maxValueBytes: 1024,
      clusterView: () => Promise.reject(new Error('not used')),
      readiness: () => ({ ready: true, reason: 'ok' }),
      routingView: () => routingView(current),
    });
    const before = await request(app).get('/v1/routing');
    assert.equal(before.status, 503);
    assert.equal(before.body.error.code, 'UNAVAILABLE');
    current = snapshot;
    const loaded = await request(app).get('/v1/routing');
    assert.equal(loaded.status, 200);
    assert.deepEqual(loaded.body, JSON.parse(JSON.stringify(routingView(snapshot))));
  });
});
