import * as fs from 'node:fs';
import * as path from 'node:path';
import { Ring } from '@kvstore/topology';
import { ChaosCluster } from './cluster';
import type { History } from './history';
import { kit } from './kit';
import { Nemesis, planFaults } from './nemesis/nemesis';
import { parseOptions, USAGE, UsageError, type ChaosOptions } from './options';
import { checkEventualReads } from './report/eventual';
import { analyse, type Analysis } from './report/verdict';
import { renderTimeline } from './report/timeline';
import { Workload } from './workload/workload';

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
    if (error instanceof UsageError) {
      console.error(`chaos: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
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
      `${options.concurrency} clients, ${options.keys} keys, session timeout ${options.sessionTimeoutMs} ms, out ${options.out}`,
  );

  const durationMs = options.durationS * 1000;
  const plan = planFaults(options.seed, options.faults, durationMs, options.sessionTimeoutMs);
  const cluster = await ChaosCluster.start({
    dataDir: kit.tempDir('chaos-data'),
    logDir: path.join(options.out, 'logs'),
    sessionTimeoutMs: options.sessionTimeoutMs,
    log,
  });
  let history: History;
  let unread: string[] = [];
  let settled = true;
  let gateReadiness: Record<string, number> = {};
  let eventualReads;
  let markers: { at: number; label: string }[] = [];
  try {
    const view = await cluster.cluster.clusterView();
    log(`cluster ${view.cluster} ready: ${view.partitions.map((p) => `${p.name} leader ${p.leader} isr [${p.isr.join(',')}]`).join('; ')}`);
    const ring = new Ring(view.ring);
    const workload = new Workload({ seed: options.seed, concurrency: options.concurrency, keys: options.keys, gateUrls: () => cluster.gateUrls, ring });
    const nemesis = new Nemesis(cluster, plan, log);
    const startedAt = Date.now();
    const until = startedAt + durationMs;
    const progress = setInterval(() => {
      const ops = workload.operations;
      const ok = ops.filter((op) => op.outcome === 'ok').length;
      log(`progress: ${ops.length} operations, ${ok} ok`);
    }, 10_000);
    try {
      await Promise.all([workload.run(until), nemesis.run(until)]);
    } finally {
      clearInterval(progress);
    }
    const workloadEnded = Date.now();
    log(`workload over (${workload.operations.length} operations); healing everything`);
    await nemesis.healAll();
    try {
      const gate = await cluster.waitForSettled(30_000);
      log(`every partition has a leader and a full in-sync set (seen by ${gate})`);
    } catch (error) {
      settled = false;
      log(`WARNING: the cluster did not settle after healing: ${(error as Error).message}`);
    }
    const finalAt = Date.now();
    ({ unread } = await workload.finalReads(8));
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
    history = { operations: workload.operations, faults: nemesis.events, startedAt, endedAt };
    eventualReads = workload.eventualReads;
    markers = [
      { at: workloadEnded, label: 'workload ends' },
      { at: finalAt, label: 'final reads' },
    ];
  } finally {
    await cluster.stop();
  }

  fs.writeFileSync(path.join(options.out, 'history.json'), `${JSON.stringify(history)}\n`);
  fs.writeFileSync(path.join(options.out, 'eventual-reads.json'), `${JSON.stringify(eventualReads)}\n`);
  const eventual = checkEventualReads(eventualReads, history.operations);
  const analysis: Analysis = analyse(history, options.out);
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
    eventualReads: { reads: eventual.reads, ok: eventual.ok, anomalies: eventual.anomalies },
    verdict: analysis.verdict,
  };
  const passed = analysis.verdict.passed && eventual.anomalies.length === 0;
  fs.writeFileSync(path.join(options.out, 'summary.json'), `${JSON.stringify({ ...summary, passed }, null, 2)}\n`);

  console.log('');
  console.log(analysis.text);
  console.log('');
  console.log(`eventual reads: ${eventual.reads} (${eventual.ok} ok), ${eventual.anomalies.length} returned a value never written (or not applied)`);
  for (const anomaly of eventual.anomalies.slice(0, 10)) console.log(`  ${anomaly.reason}: ${JSON.stringify(anomaly.read)}${anomaly.write ? ` written by ${JSON.stringify(anomaly.write)}` : ''}`);
  if (!settled) console.log('WARNING: the cluster did not settle (leader and full in-sync set everywhere) within 30 s of healing');
  if (unread.length > 0) console.log(`WARNING: ${unread.length} keys could not be read back after healing`);
  for (const [url, status] of Object.entries(gateReadiness)) {
    if (status !== 200) console.log(`WARNING: gate ${url} was not ready after healing (GET /readyz: ${status || 'no answer'})`);
  }
  console.log('');
  console.log(`files in ${options.out}:`);
  for (const file of ['history.json', 'eventual-reads.json', 'report.json', 'summary.json', 'timeline.svg', 'run.log', 'logs/']) console.log(`  ${file}`);
  console.log(passed ? 'PASS: no lost acknowledged write, no linearizability violation, no value never written' : 'FAIL: see the report above');
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
