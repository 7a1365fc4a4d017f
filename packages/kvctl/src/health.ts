/**
 * `kvctl health`: every gate named on the command line and every replica
 * the cluster view lists, each asked `/healthz` then `/readyz`, ready or why
 * not; and each partition: has it a leader, is every in-sync member
 * registered. Exit 0 when all is ready, 1 (NOT_READY) otherwise.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Command } from 'commander';
import { KvError, type ClusterView, type GateTls } from '@kvstore/kvclient';
import type { CommandContext } from './context';
import { NotReadyError } from './failures';
import { cell, type Rendering } from './output';
import { positiveInteger } from './parsers';

const DEFAULT_PROBE_TIMEOUT_MS = 2000;

interface HealthCheck {
  kind: 'gate' | 'replica' | 'partition' | 'cluster';
  partition: string | null;
  /** The replica's id. */
  id: string | null;
  url: string | null;
  ready: boolean;
  /** Why not ready; null when ready. */
  reason: string | null;
}

interface HealthReport {
  ready: boolean;
  checks: HealthCheck[];
}

const HEALTH: Rendering<HealthReport> = {
  columns: ['KIND', 'PARTITION', 'ID', 'URL', 'READY', 'REASON'],
  rows: (report) =>
    report.checks.map((check) => [check.kind, cell(check.partition), cell(check.id), cell(check.url), check.ready ? 'yes' : 'no', cell(check.reason)]),
};

export function addHealthCommand(parent: Command, context: CommandContext): void {
  parent
    .command('health')
    .description('ask every gate given and every replica of the cluster view whether it is ready; exit 1 if one is not')
    .option('--probe-timeout <ms>', `how long each process may take to answer (default ${DEFAULT_PROBE_TIMEOUT_MS})`, positiveInteger)
    .action(async (flags: { probeTimeout?: number }) => {
      const report = await checkHealth(context, flags.probeTimeout ?? DEFAULT_PROBE_TIMEOUT_MS);
      context.print(report, HEALTH);
      const failing = report.checks.filter((check) => !check.ready);
      if (failing.length > 0) {
        const names = failing.map((check) => check.id ?? check.partition ?? check.url ?? check.kind).join(', ');
        throw new NotReadyError(`${failing.length} of ${report.checks.length} not ready: ${names}`);
      }
    });
}

async function checkHealth(context: CommandContext, timeoutMs: number): Promise<HealthReport> {
  const client = context.client();
  const gates = Promise.all(
    client.hosts.map(async (url): Promise<HealthCheck> => ({ kind: 'gate', partition: null, id: null, url, ...(await probe(url, timeoutMs, client.tls)) })),
  );
  let view: ClusterView | undefined;
  let viewFailure: string | undefined;
  try {
    view = await client.cluster();
  } catch (error) {
    if (!(error instanceof KvError)) throw error;
    viewFailure = `no cluster view: ${error.code}: ${error.message}`;
  }
  const partitions = view ? await Promise.all(view.partitions.map((partition) => partitionChecks(partition, timeoutMs, client.tls))) : [];
  const cluster: HealthCheck[] = viewFailure ? [{ kind: 'cluster', partition: null, id: null, url: null, ready: false, reason: viewFailure }] : [];
  const checks = [...(await gates), ...cluster, ...partitions.flat()];
  return { ready: checks.every((check) => check.ready), checks };
}

/** The partition itself (a leader; no in-sync member missing from ZooKeeper), then each of its replicas. */
async function partitionChecks(partition: ClusterView['partitions'][number], timeoutMs: number, tls: GateTls): Promise<HealthCheck[]> {
  const registered = new Set(partition.members.map((member) => member.id));
  const unregistered = partition.isr.filter((id) => !registered.has(id));
  const problems = [
    ...(partition.leader === null ? ['no leader'] : []),
    ...(unregistered.length > 0 ? [`in sync but not registered: ${unregistered.join(',')}`] : []),
  ];
  const own: HealthCheck = {
    kind: 'partition',
    partition: partition.name,
    id: null,
    url: null,
    ready: problems.length === 0,
    reason: problems.length > 0 ? problems.join('; ') : null,
  };
  const replicas = await Promise.all(
    partition.members.map(async (member): Promise<HealthCheck> => ({
      kind: 'replica',
      partition: partition.name,
      id: member.id,
      url: member.url ?? null,
      // A gate with --auth on shows replica addresses to admins only.
      ...(member.url === undefined ? { ready: false, reason: 'address hidden: needs an admin token' } : await probe(member.url, timeoutMs, tls)),
    })),
  );
  return [own, ...replicas];
}

/** `/healthz`, then `/readyz`: ready, or why not ("unreachable: ECONNREFUSED", "timeout", the error body's message). */
/** `tls`: how kvctl verifies https:// gates; replicas of the same cluster carry certificates of the same CA. */
async function probe(baseUrl: string, timeoutMs: number, tls: GateTls): Promise<{ ready: boolean; reason: string | null }> {
  const base = baseUrl.replace(/\/+$/, '');
  const notLive = await whyNot(`${base}/healthz`, timeoutMs, tls);
  if (notLive !== null) return { ready: false, reason: notLive };
  const notReady = await whyNot(`${base}/readyz`, timeoutMs, tls);
  return { ready: notReady === null, reason: notReady };
}

/**
 * One GET within `timeoutMs`, on a connection of its own: null for a 2xx,
 * else why not. node:http rather than fetch, which refuses some ports
 * outright (6000, 10080, ...) that a replica may well listen on.
 */
function whyNot(url: string, timeoutMs: number, tls: GateTls): Promise<string | null> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? https : http).get(target, { agent: false, ca: tls.ca, rejectUnauthorized: tls.insecure !== true }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        finish(status >= 200 && status < 300 ? null : errorMessage(Buffer.concat(chunks).toString('utf8')) ?? `HTTP ${status}`);
      });
      response.on('error', (error) => finish(`unreachable: ${codeOf(error)}`));
    });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    request.on('error', (error) => finish(`unreachable: ${codeOf(error)}`));
    function finish(reason: string | null): void {
      clearTimeout(timer);
      request.destroy();
      resolve(reason);
    }
  });
}

function codeOf(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : error.message;
}

/** The message of the API's error body (`{"error":{"code","message"}}`), if that is what it is. */
function errorMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
