import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildClusterView } from '../src/cluster/cluster-view';
import { snapshotOf, urlOf } from './fixtures';

describe('buildClusterView', () => {
  it('shows roles from the leader record, last sequence numbers and lag, null where a replica is silent', async () => {
    const snapshot = snapshotOf({ p0: { members: ['b', 'a', 'c'], leader: 'a', epoch: 4 }, p1: {} }, { version: 3 });
    const seqs: Record<string, number> = { [urlOf('a')]: 10, [urlOf('b')]: 7 };
    const view = await buildClusterView('blue', snapshot, async (url) => (url in seqs ? { lastSeq: seqs[url] ?? 0 } : undefined));
    assert.deepEqual(view, {
      cluster: 'blue',
      ring: { version: 3, partitions: ['p0', 'p1'] },
      partitions: [
        {
          name: 'p0',
          epoch: 4,
          leader: 'a',
          isr: ['b', 'a', 'c'],
          members: [
            { id: 'a', url: urlOf('a'), role: 'leader', lastSeq: 10, lag: 0 },
            { id: 'b', url: urlOf('b'), role: 'follower', lastSeq: 7, lag: 3 },
            { id: 'c', url: urlOf('c'), role: 'follower', lastSeq: null, lag: null },
          ],
        },
        { name: 'p1', epoch: 1, leader: null, isr: [], members: [] },
      ],
      problems: [],
    });
  });

  it('answers an empty view before the ring is loaded', async () => {
    const view = await buildClusterView('default', { partitions: new Map() }, async () => undefined);
    assert.deepEqual(view, { cluster: 'default', ring: { version: 0, partitions: [] }, partitions: [], problems: [] });
  });

  it('lists the malformed records the watcher holds on to', async () => {
    const problem = { path: '/kvstore/default/partitions/p0/state', error: 'malformed state record: not JSON' };
    const view = await buildClusterView('default', { partitions: new Map() }, async () => undefined, [problem]);
    assert.deepEqual(view.problems, [problem]);
  });
});
