import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZkSession } from '@kvstore/cluster';
import { ensembleLeader, get, privateZooKeeperEnsemble, put, startCluster, waitFor, type TestCluster, type ZooKeeperEnsemble } from '@kvstore/testkit';

/** Traffic before a member is killed, while it is down, and after it is back. */
const STEADY_MS = 1500;

/**
 * The order to kill the members in, one at a time: the leader first (the
 * ensemble must elect another, and every client is cut off meanwhile), then a
 * follower that has not been killed yet, then whichever is left.
 */
async function nextVictim(ensemble: ZooKeeperEnsemble, killed: ReadonlySet<number>): Promise<number> {
  const leader = await waitFor(() => ensembleLeader(ensemble).then((index) => index !== undefined && { index }), { what: 'the ensemble to have a leader' });
  if (killed.size === 0) return leader.index;
  const left = ensemble.members.map((_, index) => index).filter((index) => !killed.has(index));
  return left.find((index) => index !== leader.index) ?? left[0];
}

/** Kills each member in turn (SIGKILL), holds it down for STEADY_MS after the rest serve again, restarts it. */
async function killEachMemberInTurn(ensemble: ZooKeeperEnsemble, onRound: (victim: number, mode: string) => void): Promise<void> {
  const killed = new Set<number>();
  while (killed.size < ensemble.members.length) {
    const victim = await nextVictim(ensemble, killed);
    const mode = (await ensembleLeader(ensemble)) === victim ? 'leader' : 'follower';
    await ensemble.members[victim].kill();
    killed.add(victim);
    onRound(victim, mode);
    await waitFor(async () => (await ensembleLeader(ensemble)) !== undefined, { timeoutMs: 20_000, what: 'the others to elect a leader' });
    await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
    await ensemble.members[victim].restart();
    await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
  }
}

interface Outcome {
  ok: boolean;
  startedAt: number;
  ms: number;
  detail: string;
}

/** Clients that each write a fresh key and read it back (strong) through the gate, until stopped. */
function startTraffic(gate: string, clients: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let n = 0; running; n++) {
      const key = `ens-${client}-${n}`;
      for (const step of ['put', 'get'] as const) {
        const startedAt = Date.now();
        let detail: string;
        try {
          const result = step === 'put' ? await put(gate, key, key, { timeoutMs: 10_000 }) : await get(gate, key, { consistency: 'strong', timeoutMs: 10_000 });
          const ok = result.status === 200 && (step === 'put' || result.body.toString() === key);
          detail = `${step} ${key}: ${result.status} ${result.body.toString().slice(0, 200)}`;
          outcomes.push({ ok, startedAt, ms: Date.now() - startedAt, detail });
        } catch (error) {
          detail = `${step} ${key}: ${(error as Error).message}`;
          outcomes.push({ ok: false, startedAt, ms: Date.now() - startedAt, detail });
        }
      }
    }
  });
  return {
    outcomes,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('a cluster on a 3-node ZooKeeper ensemble', () => {
  let ensemble: ZooKeeperEnsemble;

  before(async () => {
    ensemble = await privateZooKeeperEnsemble(3);
  });

  after(() => ensemble?.stop());

  test('a ZooKeeper session outlives the death of each member, the leader included, without expiring', async (t) => {
    const session = await ZkSession.connect(ensemble.connectString, { sessionTimeoutMs: 4000 });
    t.after(() => session.close());
    const events: string[] = [];
    for (const event of ['expired', 'disconnected', 'connected'] as const) session.on(event, () => events.push(event));
    const path = `/ensemble-session-${process.pid}`;
    await session.create(path, Buffer.from('0'), 'persistent');
    await killEachMemberInTurn(ensemble, (victim, mode) => t.diagnostic(`killed member ${victim + 1} (${mode})`));
    // The same session still writes, at the version it created the node with.
    assert.equal(await waitFor(() => session.setData(path, Buffer.from('1'), 0), { what: 'a write on the session' }), 1);
    assert.ok(!events.includes('expired'), `the session expired (events: ${events.join(', ')})`);
    assert.ok(events.includes('disconnected'), 'killing the leader should have cut the session off for a while');
    await session.remove(path);
  });

  test('a session cut off by an election that outlasts its timeout is not given up: the new leader gives it a whole timeout again', async (t) => {
    const sessionTimeoutMs = 4000;
    const leader = await waitFor(() => ensembleLeader(ensemble).then((index) => index !== undefined && { index }), { what: 'a leader' });
    const [paused, left] = ensemble.members.map((_, index) => index).filter((index) => index !== leader.index);
    // Only the leader and the follower that stays up: once the leader dies, the session has nowhere to go until a majority is back.
    const session = await ZkSession.connect(`${ensemble.members[leader.index].connectString},${ensemble.members[left].connectString}`, { sessionTimeoutMs });
    t.after(() => session.close());
    const events: string[] = [];
    for (const event of ['expired', 'disconnected', 'connected'] as const) session.on(event, () => events.push(event));
    const path = `/ensemble-election-${process.pid}`;
    await session.create(path, Buffer.from('0'), 'persistent');
    // The leader dies and one follower stops: the one left alone cannot elect anyone for longer than the session timeout.
    const cutOffAt = Date.now();
    await ensemble.members[leader.index].kill();
    ensemble.members[paused].pause();
    t.after(() => ensemble.members[leader.index].restart());
    // Held just past one timeout: the point is an election that outlasts it (and, on a loaded host, the next one can take as long again).
    await new Promise((resolve) => setTimeout(resolve, sessionTimeoutMs * 1.1));
    ensemble.members[paused].resume();
    assert.equal(await waitFor(() => session.setData(path, Buffer.from('1'), 0), { timeoutMs: 20_000, what: 'a write on the session' }), 1);
    t.diagnostic(`cut off for ${Date.now() - cutOffAt} ms with a ${sessionTimeoutMs} ms session timeout; events: ${events.join(', ')}`);
    assert.ok(!events.includes('expired'), `the session was given up (events: ${events.join(', ')})`);
    await session.remove(path);
  });

  test('writes and strong reads all succeed and leaders stay elected while each member is killed in turn', { timeout: 120_000 }, async (t) => {
    const cluster: TestCluster = await startCluster({ zookeeper: ensemble, name: 'zk-ensemble', startTimeoutMs: 60_000 });
    t.after(() => cluster.stop());
    const gate = cluster.gateUrls[0];
    const leadersBefore = (await cluster.clusterView()).partitions.map(({ name, epoch, leader }) => ({ name, epoch, leader }));
    const traffic = startTraffic(gate, 4);
    const kills: { at: number; label: string }[] = [];
    try {
      await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
      await killEachMemberInTurn(ensemble, (victim, mode) => kills.push({ at: Date.now(), label: `member ${victim + 1} (${mode})` }));
    } finally {
      await traffic.stop();
    }
    const { outcomes } = traffic;
    const failed = outcomes.filter((outcome) => !outcome.ok);
    const slowest = outcomes.reduce((max, outcome) => Math.max(max, outcome.ms), 0);
    for (const kill of kills) {
      const during = outcomes.filter((outcome) => outcome.startedAt >= kill.at && outcome.startedAt < kill.at + STEADY_MS);
      t.diagnostic(`killed ${kill.label}: ${during.length} operations in the next ${STEADY_MS} ms, the slowest ${Math.max(0, ...during.map((o) => o.ms))} ms`);
    }
    t.diagnostic(`${outcomes.length} operations, ${failed.length} failed, the slowest took ${slowest} ms`);
    assert.ok(outcomes.length > 100, `only ${outcomes.length} operations`);
    assert.deepEqual(failed.map((outcome) => outcome.detail), [], 'operations failed while a ZooKeeper member was down');
    const leadersAfter = (await cluster.clusterView()).partitions.map(({ name, epoch, leader }) => ({ name, epoch, leader }));
    assert.deepEqual(leadersAfter, leadersBefore, 'a leader changed: some replica lost its ZooKeeper session');
    await cluster.waitForSettled(10_000);
  });
});
