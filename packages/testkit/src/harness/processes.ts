import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManagedProcess } from './managed-process';
import type { TlsFileSet } from './tls-files';
import { waitFor } from './wait';

/** The repository root: this file runs from packages/testkit/dist/src/harness. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');

interface CommonOptions {
  zk: string;
  port: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  cluster?: string;
  /** The url others should use to reach it, when it differs from http://host:port. */
  advertise?: string;
  /** The cluster's shared secret (ensureClusterSecretFile makes one); the programs refuse to start without it. */
  clusterSecretFile?: string;
  /** The cluster's ZooKeeper credentials (ensureZkAuthFile makes one): --zk-auth-file. */
  zkAuthFile?: string;
  /** HTTPS on the port (--tls-cert, --tls-key, --tls-ca); this process must trust the CA (trustCa) for the readiness wait. */
  tls?: TlsFileSet;
  writeTimeoutMs?: number;
  sessionTimeoutMs?: number;
  extraArgs?: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Bound on the wait for GET /healthz to answer 200 (default 15000 ms). */
  readyTimeoutMs?: number;
  /** See ProcessSpec.ownProcessGroup. */
  ownProcessGroup?: boolean;
}

export interface KvServerOptions extends CommonOptions {
  partition: string;
  id: string;
  dataDir?: string;
  replication?: 'sync' | 'async';
  minInsync?: number;
  replicaTimeoutMs?: number;
  maxKeys?: number;
  maxValueBytes?: number;
  fsync?: boolean;
}

export type KvGateOptions = CommonOptions;

type Flags = Record<string, string | number | boolean | undefined>;

function toArgs(flags: Flags, extraArgs: string[] = []): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    args.push(`--${name}`, typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value));
  }
  return [...args, ...extraArgs];
}

function commonFlags(options: CommonOptions): Flags {
  return {
    zk: options.zk,
    port: options.port,
    host: options.host ?? '127.0.0.1',
    cluster: options.cluster,
    'cluster-secret-file': options.clusterSecretFile,
    'zk-auth-file': options.zkAuthFile,
    'tls-cert': options.tls?.certFile,
    'tls-key': options.tls?.keyFile,
    'tls-ca': options.tls?.caFile,
    advertise: options.advertise,
    'write-timeout': options.writeTimeoutMs,
    'session-timeout': options.sessionTimeoutMs,
  };
}

/** kvserver's command line (after the program name) for these options. */
export function kvServerArgs(options: KvServerOptions): string[] {
  return toArgs(
    {
      ...commonFlags(options),
      partition: options.partition,
      id: options.id,
      'data-dir': options.dataDir,
      replication: options.replication,
      'min-insync': options.minInsync,
      'replica-timeout': options.replicaTimeoutMs,
      'max-keys': options.maxKeys,
      'max-value-bytes': options.maxValueBytes,
      fsync: options.fsync,
    },
    options.extraArgs,
  );
}

/** kvgate's command line (after the program name) for these options. */
export function kvGateArgs(options: KvGateOptions): string[] {
  return toArgs(commonFlags(options), options.extraArgs);
}

/** The compiled entry point of `program` in the checkout at `root` (this one by default; the bench's compare mode runs an older build beside it). */
export function programMain(program: 'kvserver' | 'kvgate', root = REPO_ROOT): string {
  return path.join(root, 'packages', program, 'dist', 'src', 'main.js');
}

async function startProgram(
  program: 'kvserver' | 'kvgate',
  name: string,
  args: string[],
  options: CommonOptions,
): Promise<ManagedProcess> {
  const main = programMain(program);
  if (!fs.existsSync(main)) throw new Error(`${path.relative(REPO_ROOT, main)} is missing: run \`npm run build\` first`);
  const child = await ManagedProcess.start({
    name,
    command: process.execPath,
    args: [main, ...args],
    logFile: options.logFile,
    env: options.env,
    cwd: REPO_ROOT,
    ownProcessGroup: options.ownProcessGroup,
  });
  const host = options.host === undefined || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  await waitForHealthy(child, `${schemeOf(options)}://${host}:${options.port}`, options.readyTimeoutMs ?? 15_000);
  return child;
}

/** http, or https with TLS files. */
export function schemeOf(options: { tls?: TlsFileSet | undefined }): 'http' | 'https' {
  return options.tls === undefined ? 'http' : 'https';
}

/** Starts a kvserver and resolves once its GET /healthz answers 200. */
export function startKvServer(options: KvServerOptions): Promise<ManagedProcess> {
  return startProgram('kvserver', `kvserver ${options.id}`, kvServerArgs(options), options);
}

/** Starts a kvgate and resolves once its GET /healthz answers 200. */
export function startKvGate(options: KvGateOptions): Promise<ManagedProcess> {
  return startProgram('kvgate', `kvgate :${options.port}`, kvGateArgs(options), options);
}

async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.body?.cancel();
  return response.status === 200;
}

/**
 * Waits for `baseUrl`/healthz to answer 200 from this very process: it fails at
 * once if the process exits (say, on a port already in use), and kills it if it
 * never gets healthy, so that a failed start leaves nothing behind.
 */
export async function waitForHealthy(child: ManagedProcess, baseUrl: string, timeoutMs: number): Promise<void> {
  let outcome: 'healthy' | 'exited';
  try {
    outcome = await waitFor(async () => (!child.running ? 'exited' : (await answers200(`${baseUrl}/healthz`)) && 'healthy'), {
      timeoutMs,
      what: `${child.name} to answer 200 on ${baseUrl}/healthz`,
    });
  } catch (error) {
    await child.kill();
    throw new Error(`${(error as Error).message}\n--- ${child.logFile} (last lines):\n${child.logTail()}`);
  }
  if (outcome === 'exited') {
    throw new Error(
      `${child.name} ${child.describeExit()} before answering ${baseUrl}/healthz\n--- ${child.logFile} (last lines):\n${child.logTail()}`,
    );
  }
}
