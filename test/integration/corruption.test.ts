import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LmdbEngine } from '@kvstore/kvserver/internal';
import { ManagedProcess, kvServerArgs, startCluster, waitFor, type TestCluster, type TestServer } from '@kvstore/testkit';
import * as processesModule from '@kvstore/testkit/harness';
import { assertAllReadable, dataDirOf, followersOf, lmdbFileOf, logSince, logSize, putMany, replicaStatus, waitCaughtUp, type Ack } from './durable-support';

const SESSION_TIMEOUT_MS = 2000;

/** Opens a stopped replica's LMDB from the test, lets `damage` change it, commits and closes. */
async function damageOffline(server: TestServer, damage: (engine: LmdbEngine, lastSeq: number) => void): Promise<void> {
  assert.equal(server.process.running, false, 'damage only a stopped replica');
  const engine = LmdbEngine.open(dataDirOf(server), { fsync: true });
  try {
    const seqs = [...engine.log.getKeys()] as number[];
    damage(engine, seqs.at(-1)!);
    await engine.flush();
  } finally {
    await engine.close();
  }
}

function copyOfRecord(engine: LmdbEngine, seq: number): Buffer {
  const record = engine.log.get(seq);
  assert.ok(record, `no log record ${seq}`);
  return Buffer.from(record);
}

/** Starts the replica as restartServer would, but returns at once: it may refuse to start. */
async function startRaw(server: TestServer): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name: `kvserver ${server.id}`,
    command: process.execPath,
    args: [processesModule.programMain('kvserver'), ...kvServerArgs(server.options)],
    logFile: server.options.logFile,
    cwd: processesModule.REPO_ROOT,
  });
}

/** Stops `server` (SIGTERM, it leaves the in-sync set), waits until the others noticed. */
async function stopFollower(cluster: TestCluster, server: TestServer): Promise<void> {
  await server.process.stop();
  await cluster.waitForIsr(server.partition, cluster.layout().get(server.partition)!.length - 1, { timeoutMs: 4 * SESSION_TIMEOUT_MS });
}

/** Restarts a repaired (or wiped) replica and checks that it rejoins with every acknowledged write. */
async function assertRejoins(cluster: TestCluster, server: TestServer, acked: readonly Ack[]): Promise<void> {
  await cluster.waitForIsr(server.partition, cluster.layout().get(server.partition)!.length, { timeoutMs: 30_000 });
  await waitCaughtUp(cluster, server);
  await assertAllReadable(server.url, acked, { consistency: 'eventual', who: server.id });
}

describe('a replica whose data is damaged while it is down', () => {
  let cluster: TestCluster;
  let acked: Ack[];

  before(async () => {
    cluster = await startCluster({ name: 'corruption', partitions: 1, replicas: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS });
    // About 1 MB of state and as much log, so that a cut of whole pages hits pages in use.
    acked = await putMany(cluster.gateUrls[0]!, 'corrupt', 600, (n) => `value-${n}-`.padEnd(1000 + (n % 50), 'z'));
  });
  after(() => cluster?.stop());
  // Whatever a case did (or failed to undo), the next one starts with every replica up, whole and in sync.
  beforeEach(async () => {
    for (const server of cluster.servers.values()) {
      if (server.process.running) continue;
      fs.rmSync(dataDirOf(server), { recursive: true, force: true });
      await cluster.restartServer(server.id);
    }
    await cluster.waitForIsr('p0', 3, { timeoutMs: 30_000 });
  });

  it('cuts off a torn record at the end of its log (an unacknowledged write cut by the crash), logs it and rejoins', async () => {
    const [follower] = await followersOf(cluster, 'p0');
    await stopFollower(cluster, follower!);
    await damageOffline(follower!, (engine, lastSeq) => {
      // A write half on disk after the last one: the first 20 bytes of a real record.
      engine.putLog(lastSeq + 1, copyOfRecord(engine, lastSeq).subarray(0, 20));
    });
    const from = logSize(follower!);
    await cluster.restartServer(follower!.id);
    assert.match(logSince(follower!, from), /cutting off a torn record at the end of the log/);
    await assertRejoins(cluster, follower!, acked);
  });

  it('cuts off its own last log record when that record is torn, logs it and rejoins', async () => {
    // The replica was quiet: it had applied its whole log, so the torn record is also in its state.
    const [follower] = await followersOf(cluster, 'p0');
    await stopFollower(cluster, follower!);
    let torn = 0;
    await damageOffline(follower!, (engine, lastSeq) => {
      torn = lastSeq;
      const record = copyOfRecord(engine, lastSeq);
      engine.putLog(lastSeq, record.subarray(0, record.length - 3));
    });
    const from = logSize(follower!);
    const child = await startRaw(follower!);
    follower!.process = child;
    const outcome = await waitFor(async () => (!child.running ? 'exited' : (await replicaStatus(follower!).catch(() => undefined)) && 'running'), {
      timeoutMs: 15_000,
      what: `${follower!.id} to start or exit`,
    });
    const log = logSince(follower!, from);
    assert.equal(outcome, 'running', `${follower!.id} with a torn last record (seq ${torn}) ${child.describeExit()}: ${log.split('\n').filter((line) => line.startsWith('kvserver:')).join(' ')}`);
    assert.match(log, /cutting off a torn record at the end of the log/);
    await assertRejoins(cluster, follower!, acked);
  });

  it('refuses to start with a corrupt record in the middle of its log: exit 2 and one line naming the record', async () => {
    // Fresh entries, so every follower's log has a middle whatever the cases before did to it.
    acked.push(...(await putMany(cluster.gateUrls[0]!, 'middle', 30, (n) => `middle-${n}`)));
    const [follower] = await followersOf(cluster, 'p0');
    await stopFollower(cluster, follower!);
    let middle = 0;
    await damageOffline(follower!, (engine, lastSeq) => {
      const first = [...engine.log.getKeys()][0] as number;
      middle = Math.floor((first + lastSeq) / 2);
      const record = copyOfRecord(engine, middle);
      record[record.length - 1] = record[record.length - 1]! ^ 0x10;
      engine.putLog(middle, record);
    });
    const from = logSize(follower!);
    const child = await startRaw(follower!);
    follower!.process = child;
    const status = await child.exited;
    const lines = logSince(follower!, from)
      .split('\n')
      .filter((line) => line.startsWith('kvserver:'));
    assert.deepEqual(status, { code: 2, signal: null });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, new RegExp(`log record ${middle} is corrupt`));

    // What the message advises works: an emptied data dir is filled again from the peers.
    fs.rmSync(dataDirOf(follower!), { recursive: true, force: true });
    await cluster.restartServer(follower!.id);
    await assertRejoins(cluster, follower!, acked);
  });

  for (const [what, cut] of [
    ['a few bytes', 5],
    ['whole pages (64 KiB)', 64 * 1024],
  ] as const) {
    it(`kv.lmdb cut short by ${what}: never serves wrong data, and refuses cleanly if it cannot read its file`, async (t) => {
      const [follower] = await followersOf(cluster, 'p0');
      await stopFollower(cluster, follower!);
      const file = lmdbFileOf(follower!);
      const size = fs.statSync(file).size;
      assert.ok(size > 4 * cut, `kv.lmdb holds only ${size} bytes`);
      fs.truncateSync(file, size - cut);
      const from = logSize(follower!);
      const child = await startRaw(follower!);
      follower!.process = child;
      // Either it starts and rejoins, or it exits; give it the writes of a rejoin to trip over.
      const outcome = await waitFor(
        async () => {
          if (!child.running) return 'exited';
          const view = await cluster.clusterView();
          return view.partitions[0]!.isr.includes(follower!.id) && (await replicaStatus(follower!)).keys >= acked.length ? 'rejoined' : undefined;
        },
        { timeoutMs: 30_000, what: `${follower!.id} to rejoin or exit` },
      );
      const log = logSince(follower!, from);
      t.diagnostic(`kv.lmdb ${size} -> ${size - cut} bytes: ${outcome}, ${child.describeExit()}; ${log.split('\n').filter((line) => line.startsWith('kvserver:')).join(' ') || 'no kvserver: line'}`);
      if (outcome === 'rejoined') {
        await putMany(cluster.gateUrls[0]!, `after-cut-${cut}`, 100, (n) => `after-${n}`);
        await waitCaughtUp(cluster, follower!);
        assert.ok(child.running, `${follower!.id} died after rejoining: ${child.describeExit()}`);
        await assertAllReadable(follower!.url, acked, { consistency: 'eventual', who: follower!.id });
      } else {
        assert.equal(child.exitStatus?.signal, null, `${follower!.id} was killed by ${child.exitStatus?.signal} instead of refusing with a message`);
        assert.ok(/kvserver: .*kv\.lmdb|kvserver: .*truncat|kvserver: .*corrupt/i.test(log), 'one clear line on stderr saying what is wrong');
      }
      // Put it back together for the next case (a clean stop: see the SIGKILL case below for why).
      await child.stop();
      fs.rmSync(dataDirOf(follower!), { recursive: true, force: true });
      await cluster.restartServer(follower!.id);
      await assertRejoins(cluster, follower!, acked);
    });
  }

  it('a replica SIGKILLed and restarted at once with an emptied data dir rejoins an idle partition', async () => {
    // Restarted within its old ZooKeeper session, on the same url: the leader keeps its old
    // replicator for it, which believes the follower has everything and, with no new write, never
    // sends it anything. (Once a write comes, the mismatch resets it and it catches up.)
    const [follower] = await followersOf(cluster, 'p0');
    await follower!.process.kill();
    fs.rmSync(dataDirOf(follower!), { recursive: true, force: true });
    await cluster.restartServer(follower!.id);
    await cluster.waitForIsr('p0', 3, { timeoutMs: 20_000 });
    await waitCaughtUp(cluster, follower!);
    await assertAllReadable(follower!.url, acked, { consistency: 'eventual', who: follower!.id });
  });
});
