import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvClient } from '@kvstore/kvclient';
import { Ring } from '@kvstore/protocol';
import { get, put, scrapeMetrics, startCluster, waitFor } from '@kvstore/testkit';

const KEYS = 40;

test('GET /metrics on a gate and on replicas moves with traffic', async (t) => {
  // Generous timeouts: on a loaded host a slow follower must not turn the traffic into failures.
  const cluster = await startCluster({ partitions: 2, replicas: 2, name: 'metrics', writeTimeoutMs: 5000, replicaTimeoutMs: 2000 });
  t.after(() => cluster.stop());
  const [gate] = cluster.gateUrls as [string];
  const leader = (await cluster.waitForLeader('p0')).url;
  const follower = cluster.replicasOf('p0').find((server) => server.url !== leader)!.url;

  const before = { gate: await scrapeMetrics(gate), leader: await scrapeMetrics(leader), follower: await scrapeMetrics(follower) };
  for (let i = 0; i < KEYS; i++) assert.equal((await put(gate, `key-${i}`, `value-${i}`)).status, 200);
  for (let i = 0; i < KEYS; i++) assert.equal((await get(gate, `key-${i}`)).status, 200);
  assert.equal((await get(gate, 'never-written')).status, 404);
  await cluster.waitForIsr('p0', 2);
  const after = { gate: await scrapeMetrics(gate), leader: await scrapeMetrics(leader), follower: await scrapeMetrics(follower) };
  const moved = (scrape: keyof typeof after, name: string, labels?: Record<string, string>): number =>
    after[scrape].sum(name, labels) - before[scrape].sum(name, labels);

  await t.test('the gate counts and times requests by route, method, code and partition', () => {
    assert.equal(moved('gate', 'kvstore_gate_requests_total', { route: 'kv', method: 'PUT', code: '200' }), KEYS);
    assert.equal(moved('gate', 'kvstore_gate_requests_total', { route: 'kv', method: 'GET', code: '200' }), KEYS);
    assert.equal(moved('gate', 'kvstore_gate_requests_total', { route: 'kv', method: 'GET', code: '404' }), 1);
    // Both partitions got some of the keys, each under its own label.
    for (const partition of ['p0', 'p1']) assert.ok(moved('gate', 'kvstore_gate_request_duration_seconds_count', { route: 'kv', partition }) > 0, partition);
    assert.equal(moved('gate', 'kvstore_gate_request_duration_seconds_count', { route: 'kv' }), 2 * KEYS + 1);
    assert.equal(after.gate.types.get('kvstore_gate_request_duration_seconds'), 'histogram');
    // The scrapes themselves are requests of the `metrics` route.
    assert.ok(moved('gate', 'kvstore_gate_requests_total', { route: 'metrics', method: 'GET', code: '200' }) >= 1);
  });

  await t.test('the gate shows its routing, ZooKeeper session, connections and process', () => {
    assert.ok(after.gate.sum('kvstore_gate_routing_version') >= 0);
    assert.equal(after.gate.sum('kvstore_zookeeper_session_state', { state: 'connected' }), 1);
    assert.equal(after.gate.sum('kvstore_zookeeper_session_state'), 1);
    assert.ok(after.gate.sum('kvstore_gate_upstream_connections') >= 2, 'a connection to each partition\'s leader');
    assert.equal(after.gate.sum('kvstore_gate_requests_in_flight'), 1, 'the scrape itself');
    assert.ok(after.gate.sum('process_cpu_user_seconds_total') > 0);
    assert.ok(after.gate.samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'));
  });

  await t.test('the leader reports its role, writes, group commits and followers', () => {
    const written = moved('leader', 'kvstore_replica_write_commit_seconds_count');
    assert.ok(written > 0 && written < KEYS, `p0 committed ${written} of the ${KEYS} writes`);
    assert.ok(moved('leader', 'kvstore_replica_strong_read_seconds_count') >= written, 'every key written was read back');
    const [onLease, afterRound] = ['lease', 'round'].map((path) => moved('leader', 'kvstore_replica_strong_reads_total', { path }));
    assert.equal(onLease + afterRound, moved('leader', 'kvstore_replica_strong_read_seconds_count'), 'each strong read is counted on one path');
    // Reads right after acknowledged writes (and after each other): the followers' answers keep the lease.
    assert.ok(onLease > 0, `no strong read was answered on the read lease (${afterRound} after a round)`);
    assert.ok(moved('leader', 'kvstore_replica_applied_seq') >= written);
    assert.ok(moved('leader', 'kvstore_replica_commit_seq') >= written);
    assert.ok(moved('leader', 'kvstore_storage_fsync_seconds_count') > 0);
    assert.ok(moved('leader', 'kvstore_storage_fsync_batch_writes_sum') >= written);
    assert.equal(moved('leader', 'kvstore_replica_keys'), written);
    assert.equal(after.leader.sum('kvstore_replica_role', { role: 'leader', partition: 'p0' }), 1);
    assert.equal(after.leader.sum('kvstore_replica_in_sync_replicas'), 2);
    assert.equal(after.leader.sum('kvstore_replica_min_insync'), 1);
    const lag = after.leader.samples.filter((sample) => sample.name === 'kvstore_replica_follower_lag_entries');
    assert.deepEqual(lag.map((sample) => sample.labels.follower), [after.follower.samples.find((s) => s.name === 'kvstore_replica_epoch')!.labels.replica]);
    assert.ok(after.leader.sum('kvstore_storage_disk_bytes') > 0);
    assert.ok(after.leader.sum('kvstore_storage_filesystem_free_bytes') > 0);
    assert.equal(after.leader.sum('kvstore_zookeeper_session_state', { state: 'connected' }), 1);
    assert.ok(after.leader.sum('kvstore_replica_mux_connections', { door: 'peers' }) >= 1, 'the gate\'s connection');
  });

  await t.test('a replica counts the self-routing clients\' connections on its door', async () => {
    const client = new KvClient({ hosts: gate, routing: 'direct' });
    t.after(() => client.close());
    const ring = new Ring((await client.routing()).ring);
    const key = Array.from({ length: KEYS }, (_, i) => `key-${i}`).find((candidate) => ring.ownerOf(candidate) === 'p0')!;
    const opened = (await scrapeMetrics(leader)).sum('kvstore_replica_mux_connections', { door: 'clients' });
    await client.put(key, 'self-routed');
    assert.equal((await client.get(key)).value.toString(), 'self-routed');
    assert.equal((await scrapeMetrics(leader)).sum('kvstore_replica_mux_connections', { door: 'clients' }), opened + 1);
  });

  await t.test('the follower applies what the leader committed', async () => {
    assert.equal(after.follower.sum('kvstore_replica_role', { role: 'follower' }), 1);
    assert.equal(after.follower.sum('kvstore_replica_in_sync_replicas'), 0, 'only a leader reports the in-sync set');
    assert.equal(after.follower.sum('kvstore_replica_epoch'), after.leader.sum('kvstore_replica_epoch'));
    // The follower learns the last commit point with the leader's next append, sent at once.
    const leaderApplied = after.leader.sum('kvstore_replica_applied_seq');
    await waitFor(async () => (await scrapeMetrics(follower)).sum('kvstore_replica_applied_seq') >= leaderApplied, {
      timeoutMs: 5000,
      what: 'the follower to apply what the leader applied',
    });
  });
});
