import { once } from 'node:events';
import { createServer } from 'node:http';
import { ClusterAuth, ClusterSecretError, acceptMux } from '@kvstore/topology';
import pino from 'pino';
import { systemClock } from './clock';
import { ConfigError, parseServerConfig, type ServerConfig } from './config';
import { createApp } from './http/app';
import { MemoryLog } from './replication/log';
import { Replica } from './replication/replica';
import { DEFAULT_REPLICATION_OPTIONS, type ReplicationOptions } from './replication/types';
import type { ReplicationLog } from './replication/log';
import { IdentityMismatchError, claimDataDir } from './store/identity';
import type { KvStore } from './store/kv-store';
import { MemoryStore } from './store/memory-store';
import { UnrecoverableStorageError, recoverStorage } from './store/recovery';
import { replicaFrameLimit } from './wire/frame-limit';
import { MuxPeerTransport } from './wire/peer-transport';
import { PartitionCoordinator } from './zk/partition-coordinator';

const SHUTDOWN_ZK_BOUND_MS = 3000;

function fail(message: string, exitCode: number): never {
  process.stderr.write(`kvserver: ${message}\n`);
  process.exit(exitCode);
}

function readConfig(): ServerConfig {
  try {
    return parseServerConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode !== 0) fail(error.message, error.exitCode);
    process.stdout.write(error.message);
    process.exit(0);
  }
}

function readClusterAuth(config: ServerConfig): ClusterAuth {
  try {
    return ClusterAuth.fromFile(config.clusterSecretFile);
  } catch (error) {
    if (error instanceof ClusterSecretError) fail(error.message, 2);
    throw error;
  }
}

/** Memory (a cache) without a data dir; LMDB, recovered and checked, with one. */
async function openStorage(config: ServerConfig, logger: pino.Logger): Promise<{ log: ReplicationLog; store: KvStore; holdsData: boolean }> {
  if (!config.dataDir) return { log: new MemoryLog(), store: new MemoryStore({ maxKeys: config.maxKeys }), holdsData: false };
  try {
    claimDataDir(config.dataDir, { cluster: config.cluster, partition: config.partition, id: config.id });
    const recovered = await recoverStorage(config.dataDir, { fsync: config.fsync, logger });
    return recovered;
  } catch (error) {
    if (error instanceof IdentityMismatchError || error instanceof UnrecoverableStorageError) fail(error.message, 2);
    fail(`cannot open the data dir ${config.dataDir}: ${(error as Error).message}`, 1);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const auth = readClusterAuth(config);
  const logger = pino({ level: config.logLevel, base: { replica: config.id, partition: config.partition } });
  const storage = await openStorage(config, logger);
  const { store } = storage;
  const self = { id: config.id, url: config.advertiseUrl };
  const options: ReplicationOptions = {
    ...DEFAULT_REPLICATION_OPTIONS,
    mode: config.replication,
    minInsync: config.minInsync,
    writeTimeoutMs: config.writeTimeoutMs,
    replicaTimeoutMs: config.replicaTimeoutMs,
    maxLogEntries: config.maxLogEntries,
    // Half the session: the leader stops acknowledging well before ZooKeeper can have let another replica win.
    zooKeeperLeaseMs: Math.floor(config.sessionTimeoutMs / 2),
  };
  const maxFrameBytes = replicaFrameLimit(config.maxValueBytes, options);
  const transport = new MuxPeerTransport({ auth, maxFrameBytes });
  let coordinator: PartitionCoordinator | undefined;
  const replica = new Replica({
    self,
    partition: config.partition,
    log: storage.log,
    store,
    clock: systemClock,
    transport,
    coordination: { updateIsr: (epoch, change) => coordinator!.updateIsr(epoch, change) },
    options,
    logger,
  });
  coordinator = new PartitionCoordinator(
    {
      zk: config.zk,
      cluster: config.cluster,
      partition: config.partition,
      sessionTimeoutMs: config.sessionTimeoutMs,
      holdsData: storage.holdsData,
      durable: config.dataDir !== undefined,
    },
    self,
    replica,
    logger,
  );
  const zk = coordinator;
  const app = createApp({
    replica,
    partition: config.partition,
    maxValueBytes: config.maxValueBytes,
    logger,
    auth,
    owns: (key) => zk.owns(key),
    notReadyBecause: () => {
      const zooKeeper = zk.notReadyBecause();
      if (zooKeeper) return zooKeeper;
      if (store.failure) return `storage failed, writes are refused: ${store.failure.message}`;
      if (replica.role !== 'leader' && !replica.leaderUrl) return 'no leader known';
      return undefined;
    },
  });
  const server = createServer(app.http);
  server.keepAliveTimeout = 30_000;
  const mux = acceptMux(server, {
    handlers: app.mux,
    auth,
    maxFrameBytes,
    onError: (error) => logger.warn({ err: error }, 'internal protocol request failed'),
    onRefused: (refusal) => logger.warn(refusal, 'internal protocol connection refused'),
  });
  server.listen(config.port, config.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, 1)),
  ]);
  try {
    await zk.start();
  } catch (error) {
    fail(`cannot join ZooKeeper at ${config.zk}: ${(error as Error).message}`, 1);
  }
  logger.info({ url: self.url, zk: config.zk, cluster: config.cluster }, 'kvserver started');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: handing over and leaving ZooKeeper');
    server.close();
    server.closeIdleConnections();
    await replica.handOver(config.writeTimeoutMs);
    // ZooKeeper may be gone; leaving it must not hold the process.
    await Promise.race([zk.shutdown(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_ZK_BOUND_MS).unref())]);
    await transport.close();
    mux.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
