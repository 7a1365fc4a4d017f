import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@kvstore/protocol';
import type { Replica } from '../src/replication/replica';
import { SimCluster, bytes, track } from './support/sim-cluster';

/**
 * Strong reads on the leader's lease (ReplicationOptions.readLeaseMs): no
 * round while every in-sync follower has promised not to lead, and no new
 * term while a promise runs, so an old leader's lease never shows a value
 * older than one a new leader acknowledged.
 */

const LEASE_MS = 500;

const put = (replica: Replica, key: string, value: string) => replica.put(key, bytes(value), undefined, {});
const code = (error: unknown): string | undefined => (error instanceof KvError ? error.code : undefined);
const text = (value: unknown): string | undefined => (value as { value: Buffer } | undefined)?.value.toString();

/** a led with a lease and wrote k=v1, then handed the lead to b (nobody has campaigned yet). */
async function handedOverToB(): Promise<SimCluster> {
  const sim = await SimCluster.started(['a', 'b', 'c'], { readLeaseMs: LEASE_MS });
  await put(sim.replica('a'), 'k', 'v1');
  const transfer = track(sim.replica('a').transferLeadership('b', 10_000));
  await sim.advance(10);
  assert.equal(transfer.state, 'fulfilled');
  return sim;
}

describe('strong reads on a read lease', () => {
  it('answers without a round while the followers’ promise runs, and asks for a round once it has run out', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { readLeaseMs: LEASE_MS });
    await put(sim.replica('a'), 'k', 'v1');
    sim.network.pause(sim.url('b'));
    sim.network.pause(sim.url('c'));
    const onLease = track(sim.replica('a').read('k', 'strong'));
    await sim.settle();
    assert.equal(text(onLease.value), 'v1', 'answered with no follower reachable: from the lease');
    assert.deepEqual(sim.node('a').observed.strongReads, { lease: 1, round: 0 });
    await sim.advance(LEASE_MS);
    const afterLease = track(sim.replica('a').read('k', 'strong'));
    await sim.advance(100);
    assert.equal(afterLease.state, 'pending', 'past the lease a read waits for its round');
    sim.network.resume(sim.url('b'));
    sim.network.resume(sim.url('c'));
    await sim.advance(10);
    assert.equal(text(afterLease.value), 'v1');
    assert.deepEqual(sim.node('a').observed.strongReads, { lease: 1, round: 1 });
  });

  it('renews the lease with a round when reads come and no writes do', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { readLeaseMs: LEASE_MS });
    await put(sim.replica('a'), 'k', 'v1');
    // Reads every 100 ms for three leases: each past half the lease asks for a round, which renews it.
    for (let elapsed = 0; elapsed < 3 * LEASE_MS; elapsed += 100) {
      await sim.advance(100);
      const read = track(sim.replica('a').read('k', 'strong'));
      await sim.settle();
      assert.equal(text(read.value), 'v1', `at ${elapsed + 100} ms the read was ${read.state}`);
    }
  });

  it('refuses a strong read on a frozen old leader once a new leader has acknowledged a newer value', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { readLeaseMs: LEASE_MS });
    await put(sim.replica('a'), 'k', 'v1');
    sim.freeze('a');
    await sim.elect('b');
    const write = track(put(sim.replica('b'), 'k', 'v2'));
    for (let waited = 0; write.state === 'pending' && waited < 2 * LEASE_MS; waited += 10) await sim.advance(10);
    assert.equal(write.state, 'fulfilled', 'the new leader acknowledges once its promise has run out');
    sim.thaw('a');
    const read = track(sim.replica('a').read('k', 'strong'));
    await sim.advance(2000);
    assert.equal(read.state, 'rejected', `the old leader answered ${text(read.value)}`);
    assert.ok(['NOT_LEADER', 'UNAVAILABLE'].includes(code(read.error) ?? ''));
  });

  it('starts no term, after a failover or after a start, before the replica’s own promise has run out', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { readLeaseMs: LEASE_MS });
    await put(sim.replica('a'), 'k', 'v1');
    sim.freeze('a');
    await sim.elect('b');
    const read = track(sim.replica('b').read('k', 'strong'));
    await sim.advance(LEASE_MS - 1);
    assert.equal(read.state, 'pending', 'b promised a the lease when it acknowledged v1');
    await sim.advance(1);
    assert.equal(text(read.value), 'v1');
    const fresh = new SimCluster(['x', 'y'], { readLeaseMs: LEASE_MS });
    await fresh.elect('x');
    const first = track(put(fresh.replica('x'), 'k', 'v1'));
    await fresh.advance(LEASE_MS - 1);
    assert.equal(first.state, 'pending', 'a replica that has just started may have promised before, and forgotten');
    await fresh.advance(1);
    assert.equal(first.state, 'fulfilled');
  });

  it('hands the lead over in a planned transfer without the wait: the old leader gave up its lease before the handover', async () => {
    const sim = await handedOverToB();
    await sim.elect('b');
    const read = track(sim.replica('b').read('k', 'strong'));
    await sim.advance(10);
    assert.equal(text(read.value), 'v1', 'b answers at once');
  });

  it('waits out the promise when a follower other than the transfer’s target wins after a handover', async () => {
    const sim = await handedOverToB();
    sim.kill('b');
    await sim.elect('c');
    const read = track(sim.replica('c').read('k', 'strong'));
    await sim.advance(10);
    assert.equal(read.state, 'pending', 'c was not handed the lead: it keeps its promise');
    await sim.advance(LEASE_MS);
    assert.equal(text(read.value), 'v1');
  });

  it('takes a round for every strong read in async mode: an acknowledged write there rests on no follower', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { readLeaseMs: LEASE_MS, mode: 'async' });
    await put(sim.replica('a'), 'k', 'v1');
    await sim.advance(10);
    sim.network.pause(sim.url('b'));
    const read = track(sim.replica('a').read('k', 'strong'));
    await sim.advance(100);
    assert.equal(read.state, 'pending');
  });
});
