import { once } from 'node:events';
import type { Server } from 'node:http';
import pino from 'pino';
import { systemClock } from './clock';
import { ConfigError, buildServerCommand, parseServerConfig, type ServerConfig } from './config';
import { createApp } from './http/app';
import { HttpPeerTransport } from './http/peer-client';
import { MemoryLog } from './replication/log';
import { Replica } from './replication/replica';
import { DEFAULT_REPLICATION_OPTIONS } from './replication/types';
import { claimDataDir } from './store/identity';
import { MemoryStore } from './store/memory-store';
import { PartitionCoordinator } from './zk/partition-coordinator';

const EXPIRY_SWEEP_MS = 10_000;
const SHUTDOWN_ZK_BOUND_MS = 3000;

function fail(message: string, exitCode: number): never {
  process.stderr.write(`kvserver: ${message}\n`);
  process.exit(exitCode);
}

function readConfig(): ServerConfig {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(buildServerCommand().helpInformation());
    process.exit(0);
  }
  try {
    return parseServerConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel, base: { replica: config.id, partition: config.partition } });
  if (config.dataDir) {
    try {
      claimDataDir(config.dataDir, { cluster: config.cluster, partition: config.partition, id: config.id });
    } catch (error) {
      fail((error as Error).message, 2);
    }
    logger.warn({ dataDir: config.dataDir }, 'durable storage is not built yet: the data dir holds the identity only, data stays in memory');
  }
  const self = { id: config.id, url: config.advertiseUrl };
  const store = new MemoryStore({ maxKeys: config.maxKeys });
  const transport = new HttpPeerTransport();
  let coordinator: PartitionCoordinator | undefined;
  const replica = new Replica({
    self,
    partition: config.partition,
    log: new MemoryLog(),
    store,
    clock: systemClock,
    transport,
    coordination: { updateIsr: (epoch, change) => coordinator!.updateIsr(epoch, change) },
    options: {
      ...DEFAULT_REPLICATION_OPTIONS,
      mode: config.replication,
      minInsync: config.minInsync,
      writeTimeoutMs: config.writeTimeoutMs,
      replicaTimeoutMs: config.replicaTimeoutMs,
    },
    logger,
  });
  coordinator = new PartitionCoordinator(
    { zk: config.zk, cluster: config.cluster, partition: config.partition, sessionTimeoutMs: config.sessionTimeoutMs, durable: false },
    self,
    replica,
    logger,
  );
  const zk = coordinator;
  let registered = false;
  const app = createApp({
    replica,
    partition: config.partition,
    maxValueBytes: config.maxValueBytes,
    logger,
    owns: (key) => zk.owns(key),
    notReadyBecause: () => {
      if (!registered || !zk.connected) return 'not connected to ZooKeeper';
      if (!zk.ring) return 'ring not loaded';
      if (replica.role !== 'leader' && !replica.leaderUrl) return 'no leader known';
      return undefined;
    },
  });
  const server: Server = app.listen(config.port, config.host);
  server.keepAliveTimeout = 30_000;
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, 1)),
  ]);
  try {
    await zk.start();
  } catch (error) {
    fail(`cannot join ZooKeeper at ${config.zk}: ${(error as Error).message}`, 1);
  }
  registered = true;
  logger.info({ url: self.url, zk: config.zk, cluster: config.cluster }, 'kvserver started');
  setInterval(() => store.sweepExpired(systemClock.now()), EXPIRY_SWEEP_MS).unref();

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
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
