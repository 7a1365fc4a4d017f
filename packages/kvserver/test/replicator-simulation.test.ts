import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Replica } from '../src/replication/replica';
import { SimCluster, bytes, track } from './support/sim-cluster';
import { random } from './support/random';

/**
 * Pipelined appends (Replicator) on the simulator: several requests in
 * flight per follower, on a network that delays, reorders, duplicates and
 * loses append requests and answers, over disks that take time to flush.
 */

const IDS = ['a', 'b', 'c'];
const SEEDS = 120;
const STEPS = 40;

describe('pipelined appends', () => {
  for (const window of [1, 4]) {
    it(`keeps ${window} append(s) in flight to a caught-up follower that is slow to answer`, async () => {
      const sim = await SimCluster.started(IDS, { maxAppendsInFlight: window, maxBatchEntries: 1 });
      await sim.replica('a').put('warm', bytes('up'), undefined, {});
      await sim.advance(10);
      sim.network.pause(sim.url('c'));
      const before = sim.network.countCalls('append', sim.url('c'));
      const writes = Array.from({ length: 10 }, (_, n) => track(sim.replica('a').put(`k${n}`, bytes('v'), undefined, {})));
      await sim.settle();
      assert.equal(sim.network.countCalls('append', sim.url('c')) - before, window);
      assert.ok(writes.every((write) => write.state === 'pending'), 'c is in sync: nothing commits without it');
      sim.network.resume(sim.url('c'));
      await sim.advance(10);
      assert.ok(writes.every((write) => write.state === 'fulfilled'));
      assert.equal(sim.node('c').log.lastSeq, sim.node('a').log.lastSeq);
    });
  }

  it('sends one request at a time to a follower whose progress it does not know (a restarted one)', async () => {
    const sim = await SimCluster.started(IDS, { maxAppendsInFlight: 4, maxBatchEntries: 2 });
    sim.kill('c');
    for (let n = 0; n < 10; n++) await sim.replica('a').put(`k${n}`, bytes('v'), undefined, {});
    sim.restartFresh('c');
    sim.network.pause(sim.url('c'));
    const before = sim.network.countCalls('append', sim.url('c'));
    const more = track(sim.replica('a').put('more', bytes('v'), undefined, {}));
    await sim.settle();
    assert.equal(sim.network.countCalls('append', sim.url('c')) - before, 1, 'a follower of unknown progress gets one request at a time');
    sim.network.resume(sim.url('c'));
    await sim.advance(100);
    assert.equal(more.state, 'fulfilled');
    assert.equal(sim.node('c').log.lastSeq, sim.node('a').log.lastSeq);
  });

  it('after a failure, probes again only once every older request is answered or given up (the window drains)', async () => {
    const sim = await SimCluster.started(IDS, { maxAppendsInFlight: 4, replicaTimeoutMs: 500, retryBackoffMs: 50 });
    await sim.replica('a').put('warm', bytes('up'), undefined, {});
    await sim.advance(10);
    sim.network.pause(sim.url('c'));
    const first = track(sim.replica('a').put('k1', bytes('v'), undefined, {}));
    await sim.advance(200);
    const second = track(sim.replica('a').put('k2', bytes('v'), undefined, {}));
    await sim.settle();
    const sent = sim.network.countCalls('append', sim.url('c'));
    // The first request times out at 500 ms, its back-off ends at 550; the second is in flight until 700.
    await sim.advance(350);
    assert.equal(sim.network.countCalls('append', sim.url('c')), sent, 'no probe while a request of the failed generation is in flight');
    assert.deepEqual([first.state, second.state], ['fulfilled', 'fulfilled'], 'c, gone silent, left the in-sync set');
    sim.network.resume(sim.url('c'));
    await sim.advance(10);
    assert.ok(sim.network.countCalls('append', sim.url('c')) > sent);
    assert.equal(sim.node('c').log.lastSeq, sim.node('a').log.lastSeq);
  });

  it(`loses no acknowledged write, reads none stale and keeps every log a prefix of the leader's, over ${SEEDS} seeds of a faulty network`, async (t) => {
    let acknowledged = 0;
    let reads = 0;
    let failovers = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const outcome = await simulate(seed);
      acknowledged += outcome.acknowledged;
      reads += outcome.reads;
      failovers += outcome.failedOver ? 1 : 0;
    }
    t.diagnostic(`${SEEDS} seeds: ${acknowledged} writes acknowledged, ${reads} strong reads answered, ${failovers} runs with a failover`);
    assert.ok(acknowledged > SEEDS * STEPS, 'most writes get through the faults');
  });
});

/** One run: writes and strong reads at a random pace through loss, duplication and reordering, a failover halfway, then a quiet network. */
async function simulate(seed: number): Promise<{ acknowledged: number; reads: number; failedOver: boolean }> {
  const rand = random(seed);
  const sim = await SimCluster.started(IDS, { maxAppendsInFlight: 4, maxBatchEntries: 4 }, {}, () => Math.floor(rand() * 5));
  sim.network.setFaults({ random: rand, loss: 0.03, duplication: 0.1, maxDelayMs: 15 });
  const invariants = new Invariants(sim, seed);
  const acked = new Map<string, string>();
  const written: Array<{ key: string; value: string }> = [];
  const wrongReads: string[] = [];
  let reads = 0;
  let leader = 'a';
  let failedOver = false;
  for (let step = 0; step < STEPS; step++) {
    for (let n = Math.floor(rand() * 4); n >= 0; n--) {
      const key = `k${step}-${n}`;
      const value = `v${seed}-${step}-${n}`;
      sim.replica(leader).put(key, bytes(value), undefined, {}).then(
        () => acked.set(key, value),
        () => undefined,
      );
      written.push({ key, value });
    }
    if (rand() < 0.5) {
      // A strong read: once a write is acknowledged, every read that starts later shows it (each key is written once).
      const { key, value } = written[Math.floor(rand() * written.length)]!;
      const acknowledged = acked.has(key);
      sim.replica(leader).read(key, 'strong').then(
        (stored) => {
          reads++;
          const seen = stored?.value.toString();
          if (seen !== value && (acknowledged || seen !== undefined)) wrongReads.push(`${key} read as ${seen}, ${acknowledged ? 'acknowledged' : 'written'} as ${value}`);
        },
        () => undefined,
      );
    }
    await sim.advance(Math.floor(rand() * 20));
    invariants.check();
    if (step === STEPS / 2) {
      const next = sim.coordination.state.isr.find((id) => id !== leader);
      if (next === undefined) continue;
      sim.kill(leader);
      await sim.elect(next);
      sim.restartFresh(leader);
      leader = next;
      failedOver = true;
    }
  }
  sim.network.setFaults(undefined);
  await sim.advance(3000);
  invariants.check();

  assert.deepEqual(wrongReads, [], `seed ${seed}: strong reads`);
  const lead = sim.node(leader);
  for (const [key, value] of acked) assert.equal(lead.store.get(key)?.value.toString(), value, `seed ${seed}: acknowledged ${key} is lost`);
  for (const id of IDS.filter((other) => other !== leader)) {
    const follower = sim.node(id);
    assert.equal(follower.log.lastSeq, lead.log.lastSeq, `seed ${seed}: ${id} did not catch up once the network was quiet`);
    assert.equal(follower.store.appliedSeq, lead.store.appliedSeq, `seed ${seed}: ${id} did not apply the commit point`);
    for (const [key, value] of acked) assert.equal(follower.store.get(key)?.value.toString(), value, `seed ${seed}: ${id} lacks ${key}`);
  }
  return { acknowledged: acked.size, reads, failedOver };
}

/** What must hold at every step, whatever the network did. */
class Invariants {
  private readonly commits = new Map<string, number>();
  private readonly applied = new Map<Replica, number>();

  constructor(
    private readonly sim: SimCluster,
    private readonly seed: number,
  ) {}

  check(): void {
    const { sim, seed } = this;
    assert.deepEqual(sim.undurableAnswers, [], `seed ${seed}: a follower acknowledged entries before they were durable`);
    for (const id of IDS) {
      const { replica, store } = sim.node(id);
      assert.ok(store.appliedSeq >= (this.applied.get(replica) ?? 0), `seed ${seed}: ${id} went back from applied ${this.applied.get(replica)}`);
      this.applied.set(replica, store.appliedSeq);
    }
    for (const leaderId of IDS) {
      const leadership = sim.replica(leaderId).currentLeadership;
      if (!leadership) continue;
      const term = `${leaderId}@${leadership.epoch}`;
      assert.ok(leadership.commitSeq >= (this.commits.get(term) ?? 0), `seed ${seed}: ${term} moved its commit point back`);
      this.commits.set(term, leadership.commitSeq);
      for (const [id, matchSeq] of leadership.followerProgress()) {
        const follower = sim.node(id);
        assert.ok(follower.log.durableSeq >= matchSeq, `seed ${seed}: ${id} is credited with ${matchSeq} but holds ${follower.log.durableSeq} durably`);
        this.agree(leaderId, id, matchSeq, 'credited');
        this.agree(leaderId, id, follower.store.appliedSeq, 'applied');
      }
    }
  }

  /** The follower's entries up to `upTo` (those both logs still hold) are the leader's. */
  private agree(leaderId: string, followerId: string, upTo: number, what: string): void {
    const lead = this.sim.node(leaderId).log;
    const follower = this.sim.node(followerId).log;
    const last = Math.min(upTo, follower.lastSeq, lead.lastSeq);
    for (let seq = Math.max(lead.baseSeq, follower.baseSeq) + 1; seq <= last; seq++) {
      assert.deepEqual(follower.entryAt(seq), lead.entryAt(seq), `seed ${this.seed}: ${followerId}'s ${what} entry ${seq} is not ${leaderId}'s`);
    }
  }
}
