import { once } from 'node:events';
import type { Server } from 'node:http';
import { Authenticator, UserDirectory, ZkSession, createLimitedServer, peerMuxDoor, type ClusterAuth, type ClusterTls } from '@kvstore/cluster';
import { acceptMux, type MuxServer } from '@kvstore/wire';
import { clusterPaths } from '@kvstore/protocol';
import type { Logger } from 'pino';
import { systemClock } from './clock';
import type { ServerConfig } from './config';
import { createApp } from './http/app';
import { MemoryLog, type ReplicationLog } from './replication/log';
import { Replica } from './replication/replica';
import { DEFAULT_REPLICATION_OPTIONS, type ReplicationOptions } from './replication/types';
import { IdentityMismatchError, claimDataDir } from './store/identity';
import type { KvStore } from './replication/kv-store';
import { MemoryStore } from './store/memory-store';
import { lmdbPath, type LmdbEngine } from './store/lmdb-engine';
import { ReplicaMetrics } from './metrics/replica-metrics';
import { UnrecoverableStorageError, recoverStorage } from './store/recovery';
import { replicaFrameLimit } from './wire/frame-limit';
import { MuxPeerTransport } from './wire/peer-transport';
import { PartitionCoordinator } from './zk/partition-coordinator';
import { SlotRouting } from './zk/slot-routing';
import { joinByMigration } from './zk/ring-join';
import { ImportReceiver } from './migration/import-receiver';
import { DEFAULT_SLOT_MOVER_OPTIONS, SlotMover } from './migration/slot-mover';

/** ZooKeeper may be gone at shutdown; leaving it must not hold the process. */
const SHUTDOWN_ZK_BOUND_MS = 3000;

/** Why the server could not start, and the exit code `main` gives it (2: fix the configuration or data; 1: try again). */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

export interface RunningServer {
  replica: Replica;
  coordinator: PartitionCoordinator;
  server: Server;
  metrics: ReplicaMetrics;
  /** Stops taking requests, hands leadership over (bounded), leaves ZooKeeper and closes every connection. */
  close(): Promise<void>;
}

/** Memory (a cache) without a data dir; LMDB, recovered and checked, with one. */
async function openStorage(config: ServerConfig, logger: Logger): Promise<{ log: ReplicationLog; store: KvStore; holdsData: boolean; engine?: LmdbEngine }> {
  if (!config.dataDir) return { log: new MemoryLog(), store: new MemoryStore({ maxKeys: config.maxKeys }), holdsData: false };
  try {
    claimDataDir(config.dataDir, { cluster: config.cluster, partition: config.partition, id: config.id });
    return await recoverStorage(config.dataDir, { fsync: config.fsync, logger });
  } catch (error) {
    if (error instanceof IdentityMismatchError || error instanceof UnrecoverableStorageError) throw new StartupError(error.message, 2);
    throw new StartupError(`cannot open the data dir ${config.dataDir}: ${(error as Error).message}`, 1);
  }
}

export function replicationOptions(config: ServerConfig): ReplicationOptions {
  return {
    ...DEFAULT_REPLICATION_OPTIONS,
    mode: config.replication,
    minInsync: config.minInsync,
    writeTimeoutMs: config.writeTimeoutMs,
    replicaTimeoutMs: config.replicaTimeoutMs,
    readLeaseMs: config.readLeaseMs,
    maxAppendsInFlight: config.appendsInFlight,
    maxLogEntries: config.maxLogEntries,
    // Half the session: the leader stops acknowledging well before ZooKeeper can have let another replica win.
    zooKeeperLeaseMs: Math.floor(config.sessionTimeoutMs / 2),
  };
}

/**
 * A replica, started: storage recovered, the public API and the internal
 * protocol listening, ZooKeeper joined. `auth` proves and checks the
 * cluster secret; with `tls`, every route of the port is HTTPS and peers
 * are verified against its CA. Rejects with StartupError.
 */
export async function startServer(config: ServerConfig, auth: ClusterAuth, logger: Logger, tls?: ClusterTls): Promise<RunningServer> {
  const storage = await openStorage(config, logger);
  const { store } = storage;
  const self = { id: config.id, url: config.advertiseUrl };
  const options = replicationOptions(config);
  const maxFrameBytes = replicaFrameLimit(config.maxValueBytes, options);
  const transport = new MuxPeerTransport({ auth, maxFrameBytes, tls });
  // Built before the replica (which reports to it); it reads the replica and the coordinator only when scraped.
  const metrics: ReplicaMetrics = new ReplicaMetrics({
    partition: config.partition,
    id: config.id,
    replica: () => replica,
    log: storage.log,
    store,
    minInsync: config.minInsync,
    records: () => coordinator,
    disk: config.dataDir === undefined ? undefined : { file: lmdbPath(config.dataDir), dir: config.dataDir },
    // Scrapes come once the port is open, after the mux server exists.
    muxConnections: () => mux.connections(),
  });
  storage.engine?.onDurableBatch((writes, seconds) => metrics.durableBatch(writes, seconds));
  const replica: Replica = new Replica({
    self,
    partition: config.partition,
    log: storage.log,
    store,
    clock: systemClock,
    transport,
    // The replica and its coordinator need each other; the replica asks only once it leads, long after both exist.
    coordination: {
      updateIsr: async (epoch, change) => {
        const isr = await coordinator.updateIsr(epoch, change);
        metrics.isrChanged(change);
        return isr;
      },
      handOver: (epoch, target) => coordinator.handOver(epoch, target),
    },
    options,
    logger,
    observer: metrics.observer,
  });
  const paths = clusterPaths(config.cluster);
  const users = config.auth ? new UserDirectory(paths, logger) : undefined;
  const mover: SlotMover = new SlotMover({
    cluster: config.cluster,
    partition: config.partition,
    replica,
    paths,
    // The mover and the coordinator need each other; the mover reads it only once it runs, after both exist.
    get records() {
      return coordinator;
    },
    transport,
    clock: systemClock,
    logger,
    options: { ...DEFAULT_SLOT_MOVER_OPTIONS, rateKeysPerSecond: config.migrationRate, timeoutMs: config.writeTimeoutMs * 5 },
    onBatchMoved: (batch) => metrics.batchMoved(batch),
  });
  const coordinator: PartitionCoordinator = new PartitionCoordinator(
    {
      onRoutingChange: () => mover.poke(),
      zk: config.zk,
      zkDigest: config.zkDigest,
      cluster: config.cluster,
      partition: config.partition,
      sessionTimeoutMs: config.sessionTimeoutMs,
      holdsData: storage.holdsData,
      durable: config.dataDir !== undefined,
      connect: metrics.zooKeeper.wrap((connectString, options) => ZkSession.connect(connectString, options)),
      watches: users ? [users] : [],
    },
    self,
    replica,
    logger,
  );
  const routing = new SlotRouting({
    partition: config.partition,
    cluster: config.cluster,
    replica,
    records: coordinator,
  });
  const imports = new ImportReceiver({ partition: config.partition, replica, paths, records: coordinator });
  const app = createApp({
    replica,
    partition: config.partition,
    maxValueBytes: config.maxValueBytes,
    logger,
    slowRequestMs: config.slowRequestMs,
    auth,
    requirePeerCertificate: tls !== undefined,
    routing,
    imports,
    metrics,
    users: users && new Authenticator(users, logger),
    notReadyBecause: () => {
      const zooKeeper = coordinator.notReadyBecause();
      if (zooKeeper) return zooKeeper;
      if (store.failure) return `storage failed, writes are refused: ${store.failure.message}`;
      if (replica.role !== 'leader' && !replica.leaderUrl) return 'no leader known';
      return undefined;
    },
  });
  const server = createLimitedServer(app.http, config.serverLimits, tls && { tls, askPeers: true });
  server.keepAliveTimeout = 30_000;
  const mux: MuxServer = acceptMux(server, {
    doors: { ...peerMuxDoor({ auth, requirePeerCertificate: tls !== undefined, handlers: app.mux, maxFrameBytes }), ...app.clientMux },
    onError: (error) => logger.warn({ err: error }, 'internal protocol request failed'),
    onRefused: (refusal) => logger.warn(refusal, 'internal protocol connection refused'),
  });
  server.listen(config.port, config.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw new StartupError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, 1);
    }),
  ]);
  try {
    await coordinator.start();
  } catch (error) {
    server.close();
    throw new StartupError(`cannot join ZooKeeper at ${config.zk}: ${(error as Error).message}`, 1);
  }
  mover.start();
  let stopped = false;
  const ring = coordinator.currentRing;
  if (ring?.sealed && !ring.has(config.partition)) {
    if (config.join === 'auto') {
      void joinByMigration({
        cluster: config.cluster,
        partition: config.partition,
        records: coordinator,
        clock: systemClock,
        logger,
        stopped: () => stopped,
      });
    } else {
      logger.warn({ partition: config.partition }, `partition ${config.partition} is not on the ring and --join is manual: add it with \`kvctl cluster add-partition ${config.partition}\``);
    }
  }
  logger.info({ url: self.url, zk: config.zk, cluster: config.cluster }, 'kvserver started');
  return {
    replica,
    coordinator,
    server,
    metrics,
    async close() {
      server.close();
      server.closeIdleConnections();
      mover.stop();
      stopped = true;
      await replica.handOver(config.writeTimeoutMs);
      await Promise.race([coordinator.shutdown(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_ZK_BOUND_MS).unref())]);
      await transport.close();
      mux.close();
      server.closeAllConnections();
      tls?.close();
    },
  };
}
