import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { requestsPerCommit, startCommitMeter } from '../src/cluster/commits';
import type { Tracked } from '../src/cluster/cpu';

/** A /metrics that reports `counts[i]` group commits at its i-th scrape (the last one after that), or 403. */
async function metricsServer(counts: number[] | 'refused'): Promise<{ server: Server; baseUrl: string; tokens: Array<string | undefined> }> {
  const tokens: Array<string | undefined> = [];
  let scrapes = 0;
  const server = createServer((request, response) => {
    tokens.push(request.headers.authorization);
    if (counts === 'refused') return response.writeHead(403).end();
    const count = counts[Math.min(scrapes++, counts.length - 1)];
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
      ['# TYPE kvstore_storage_fsync_batch_writes histogram', 'kvstore_storage_fsync_batch_writes_bucket{le="+Inf"} 9', `kvstore_storage_fsync_batch_writes_sum 999`, `kvstore_storage_fsync_batch_writes_count ${count}`, ''].join('\n'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens };
}

test('group commits by replica kind between two scrapes, and requests per commit of one replica', async () => {
  const leader = await metricsServer([100, 150]);
  const first = await metricsServer([10, 110]);
  const second = await metricsServer([20, 120]);
  try {
    const tracked: Tracked[] = [
      { pid: 1, kind: 'gate' },
      { pid: 2, kind: 'leader', metrics: { baseUrl: leader.baseUrl, token: 'secret' } },
      { pid: 3, kind: 'followers', metrics: { baseUrl: first.baseUrl } },
      { pid: 4, kind: 'followers', metrics: { baseUrl: second.baseUrl } },
    ];
    const stop = await startCommitMeter(tracked);
    const commits = await stop();
    assert.deepEqual(commits, { leader: { commits: 50, replicas: 1 }, followers: { commits: 200, replicas: 2 } });
    // 1,000 requests: 20 per leader commit; each follower made 100 commits, 10 requests each.
    assert.deepEqual(requestsPerCommit(commits, 1000), { leader: 20, followers: 10 });
    assert.deepEqual(leader.tokens, ['Bearer secret', 'Bearer secret'], 'the token goes with each scrape');
    assert.deepEqual(first.tokens, [undefined, undefined]);
  } finally {
    for (const { server } of [leader, first, second]) server.close();
  }
});

test('a kind with a replica that cannot be read is left out, and a kind without commits has no figure', async () => {
  const leader = await metricsServer([5, 5]);
  const refusing = await metricsServer('refused');
  const follower = await metricsServer([1, 3]);
  try {
    const stop = await startCommitMeter([
      { pid: 2, kind: 'leader', metrics: { baseUrl: leader.baseUrl } },
      { pid: 3, kind: 'followers', metrics: { baseUrl: refusing.baseUrl } },
      { pid: 4, kind: 'followers', metrics: { baseUrl: follower.baseUrl } },
    ]);
    const commits = await stop();
    assert.deepEqual(commits, { leader: { commits: 0, replicas: 1 } });
    assert.deepEqual(requestsPerCommit(commits, 1000), {}, 'no commit: a read-only row');
  } finally {
    for (const { server } of [leader, refusing, follower]) server.close();
  }
});
