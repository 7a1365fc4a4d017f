import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '@kvstore/cluster';
import { KvClient } from '@kvstore/kvclient';
import { Ring } from '@kvstore/protocol';
import { clockOffsets } from './clock-skew';
import { ChaosCluster, writeClusterSecret } from './cluster';
import type { History } from './history';
import * as kit from '@kvstore/testkit';
import { Forger } from './nemesis/forge';
import { Nemesis, planFaults } from './nemesis/nemesis';
import { parseOptions, type ChaosOptions } from './options';
import { checkEventualReads } from './report/eventual';
import { analyse, type Analysis } from './report/verdict';
import { renderTimeline } from './report/timeline';
import { LockWorkload } from './workload/locks';
import { HistoryRecorder, type EventualRead } from './workload/recorder';
import { finalReads, Workload } from './workload/workload';

const PARTITIONS = 2;
const REPLICAS = 3;
const FINAL_READERS = 8;
/** How long the workload's clients wait for one answer. */
const REQUEST_TIMEOUT_MS = 3000;

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * `npm run chaos`: a private cluster, a seeded workload and nemesis, then the
 * history, the checker's report and a timeline in the output directory.
 */
async function main(argv: string[]): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseOptions(argv, REPO_ROOT);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode === 0) process.stdout.write(error.message);
    else console.error(`chaos: ${error.message} (see --help)`);
    return error.exitCode;
  }

  fs.mkdirSync(options.out, { recursive: true });
  const runLog = path.join(options.out, 'run.log');
  const t0 = Date.now();
  const log = (line: string): void => {
    const stamped = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`;
    console.log(stamped);
    fs.appendFileSync(runLog, `${stamped}\n`);
  };
  log(
    `chaos: seed ${options.seed}, ${options.durationS} s, faults ${options.faults.join(',') || 'none'}, ` +
      `${options.concurrency} clients + ${options.lockClients} lock clients, ${options.keys} keys, ${options.replication} replication, ` +
      `clock skew ±${options.clockSkewMs} ms, session timeout ${options.sessionTimeoutMs} ms, ` +
      `ZooKeeper ${options.zkEnsemble > 1 ? `ensemble of ${options.zkEnsemble}` : 'standalone'}, out ${options.out}`,
  );

  const durationMs = options.durationS * 1000;
  const plan = planFaults(options.seed, options.faults, durationMs, options.sessionTimeoutMs);
  const offsets = clockOffsets(options.seed, PARTITIONS, REPLICAS, options.clockSkewMs);
  if (offsets.size > 0) log(`clock offsets: ${[...offsets].map(([id, ms]) => `${id} ${ms > 0 ? '+' : ''}${ms} ms`).join(', ')}`);
  const cluster = await ChaosCluster.start({
    dataDir: kit.tempDir('chaos-data'),
    logDir: path.join(options.out, 'logs'),
    partitions: PARTITIONS,
    replicas: REPLICAS,
    sessionTimeoutMs: options.sessionTimeoutMs,
    zkEnsemble: options.zkEnsemble,
    replication: options.replication,
    clockOffsets: offsets,
    secretFile: writeClusterSecret(options.out),
    log,
  });
  const forger = new Forger();
  let history: History;
  let unread: string[] = [];
  let settled = true;
  let gateReadiness: Record<string, number> = {};
  let eventualReads: EventualRead[] = [];
  let markers: { at: number; label: string }[] = [];
  let selfRouting: KvClient | undefined;
  try {
    const view = await cluster.cluster.clusterView();
    log(`cluster ${view.cluster} ready: ${view.partitions.map((p) => `${p.name} leader ${p.leader} isr [${p.isr.join(',')}]`).join('; ')}`);
    const ring = new Ring(view.ring);
    selfRouting = new KvClient({ hosts: cluster.gateUrls, routing: 'direct', timeoutMs: REQUEST_TIMEOUT_MS });
    const recorder = new HistoryRecorder({ gateUrls: () => cluster.gateUrls, ring, requestTimeoutMs: REQUEST_TIMEOUT_MS, selfRouting });
    const workload = new Workload({ seed: options.seed, concurrency: options.concurrency, keys: options.keys, recorder, selfRouting: true });
    const locks = new LockWorkload({
      seed: options.seed,
      clients: options.lockClients,
      firstClient: options.concurrency,
      recorder,
      ring,
      partitions: cluster.partitions(),
      replicas: (partition) => cluster.replicasOf(partition).map((id) => ({ replica: id, url: `http://127.0.0.1:${cluster.server(id).port}` })),
      leaderOf: async (partition) => (await cluster.view())?.partitions.find((p) => p.name === partition)?.leader ?? undefined,
    });
    const nemesis = new Nemesis({
      cluster,
      plan,
      log,
      forger,
      keysOf: (partition) => [...locks.keysOf(partition), ...workload.keys.filter((key) => ring.ownerOf(key) === partition)],
      nextLockWrite: (partition, withinMs) => locks.nextAcknowledgedWrite(partition, withinMs),
    });
    if (options.lockClients > 0) nemesis.subscribe((notice) => locks.onFault(notice));
    const startedAt = Date.now();
    const until = startedAt + durationMs;
    const progress = setInterval(() => {
      const ops = recorder.operations;
      const ok = ops.filter((op) => op.outcome === 'ok').length;
      log(`progress: ${ops.length} operations, ${ok} ok`);
    }, 10_000);
    try {
      await Promise.all([workload.run(until), locks.run(until), nemesis.run(until)]);
    } finally {
      clearInterval(progress);
    }
    const workloadEnded = Date.now();
    log(`workload over (${recorder.operations.length} operations); healing everything`);
    await nemesis.healAll();
    try {
      const gate = await cluster.waitForSettled(30_000);
      log(`every partition has a leader and a full in-sync set (seen by ${gate})`);
    } catch (error) {
      settled = false;
      log(`WARNING: the cluster did not settle after healing: ${(error as Error).message}`);
    }
    const finalAt = Date.now();
    const keys = options.lockClients > 0 ? [...workload.keys, ...locks.keys] : workload.keys;
    unread = await finalReads(recorder, keys, FINAL_READERS, options.concurrency + options.lockClients);
    const endedAt = Date.now();
    if (unread.length > 0) log(`WARNING: ${unread.length} keys could not be read back: ${unread.slice(0, 10).join(', ')}`);
    // A gate that never recovers is a finding of its own: give it a moment, then say so.
    gateReadiness = await kit.waitFor(
      async () => {
        const readiness = await cluster.gateReadiness();
        return Object.values(readiness).every((status) => status === 200) ? readiness : undefined;
      },
      { timeoutMs: 5000, intervalMs: 500 },
    ).catch(() => cluster.gateReadiness());
    for (const [url, status] of Object.entries(gateReadiness)) {
      if (status !== 200) log(`WARNING: gate ${url} is not ready after healing (GET /readyz: ${status || 'no answer'})`);
    }
    history = { operations: recorder.operations, faults: nemesis.events, startedAt, endedAt };
    eventualReads = recorder.eventualReads;
    markers = [
      { at: workloadEnded, label: 'workload ends' },
      { at: finalAt, label: 'final reads' },
    ];
  } finally {
    selfRouting?.close();
    await cluster.stop();
  }

  fs.writeFileSync(path.join(options.out, 'history.json'), `${JSON.stringify(history)}\n`);
  fs.writeFileSync(path.join(options.out, 'eventual-reads.json'), `${JSON.stringify(eventualReads)}\n`);
  const eventual = checkEventualReads(eventualReads, history.operations);
  // Two clocks disagree by up to twice the skew; a second of slack on top.
  const analysis: Analysis = analyse(history, options.out, { replication: options.replication, ttlToleranceMs: 2 * options.clockSkewMs + 1000 });
  const forged = { sent: forger.requests.length, accepted: forger.accepted, refused: forger.requests.length - forger.accepted, requests: forger.requests };
  const svg = renderTimeline(history, {
    partitions: cluster.partitions(),
    markers,
    title: `chaos run, seed ${options.seed}, ${options.durationS} s, faults ${options.faults.join(',') || 'none'}`,
  });
  fs.writeFileSync(path.join(options.out, 'timeline.svg'), svg);
  const summary = {
    options: { ...options },
    plan,
    settledAfterHealing: settled,
    gateReadinessAfterHealing: gateReadiness,
    unreadKeys: unread,
    clockOffsets: Object.fromEntries(offsets),
    eventualReads: { reads: eventual.reads, ok: eventual.ok, anomalies: eventual.anomalies },
    forged,
    verdict: analysis.verdict,
  };
  const passed = analysis.verdict.passed && eventual.anomalies.length === 0 && forged.accepted === 0;
  fs.writeFileSync(path.join(options.out, 'summary.json'), `${JSON.stringify({ ...summary, passed }, null, 2)}\n`);

  console.log('');
  console.log(analysis.text);
  console.log('');
  console.log(`eventual reads: ${eventual.reads} (${eventual.ok} ok), ${eventual.anomalies.length} returned a value never written (or not applied)`);
  for (const anomaly of eventual.anomalies.slice(0, 10)) console.log(`  ${anomaly.reason}: ${JSON.stringify(anomaly.read)}${anomaly.write ? ` written by ${JSON.stringify(anomaly.write)}` : ''}`);
  if (forged.sent > 0) {
    console.log(`forged internal requests (no cluster secret): ${forged.sent} sent, ${forged.refused} refused, ${forged.accepted} ACCEPTED`);
    for (const request of forged.requests.filter((r) => r.outcome === 'accepted')) console.log(`  accepted by ${request.replica}: ${request.request}, ${request.detail}`);
  }
  if (!settled) console.log('WARNING: the cluster did not settle (leader and full in-sync set everywhere) within 30 s of healing');
  if (unread.length > 0) console.log(`WARNING: ${unread.length} keys could not be read back after healing`);
  for (const [url, status] of Object.entries(gateReadiness)) {
    if (status !== 200) console.log(`WARNING: gate ${url} was not ready after healing (GET /readyz: ${status || 'no answer'})`);
  }
  console.log('');
  console.log(`files in ${options.out}:`);
  for (const file of ['history.json', 'eventual-reads.json', 'report.json', 'summary.json', 'timeline.svg', 'run.log', 'logs/']) console.log(`  ${file}`);
  console.log(
    passed ? 'PASS: no lost acknowledged write, no linearizability violation, no value never written, no forged request accepted' : 'FAIL: see the report above',
  );
  return passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // 3: the run itself failed (the cluster did not start, ...): no verdict.
    console.error(`chaos: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(3);
  },
);
