import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MUX_FRAME_HEADROOM, type ClusterAuth } from '@kvstore/cluster';
import type { Logger } from 'pino';
import { buildClusterView, httpStatusFetcher } from './cluster/cluster-view';
import { migrationAdmin } from './cluster/migration-admin';
import { RingSummaries } from './cluster/ring-summary';
import type { GateConfig } from './config';
import { createApp } from './http/app';
import { Forwarder } from './proxy/forwarder';
import { MuxTransport } from './proxy/mux-transport';
import { SnapshotProxy, UndiciStreamTransport } from './proxy/snapshot-proxy';
import { RoutingState } from './routing/routing-state';
import { currentLeader } from './routing/routing-table';
import type { ClusterSnapshot } from './routing/snapshot';
import { ClusterWatcher } from './zk/cluster-watcher';

/** How long `GET /v1/cluster` waits for a replica's status before showing it as unknown. */
const STATUS_TIMEOUT_MS = 500;

export interface RunningGate {
  /** Where the gate listens, e.g. `http://127.0.0.1:3000`. */
  url: string;
  server: Server;
  routing: RoutingState;
  watcher: ClusterWatcher;
  /** Settles once the cluster is loaded; rejects only when ZooKeeper refuses this gate its nodes (NO_AUTH): main exits then. */
  joined: Promise<void>;
  /** Stops accepting requests, lets those in flight finish, then leaves ZooKeeper. */
  close(): Promise<void>;
}

/** Logs what an operator wants to see change: the ring and each partition's leader. */
function logChanges(logger: Logger, before: ClusterSnapshot, after: ClusterSnapshot): void {
  if (before.ring?.version !== after.ring?.version) logger.info({ ring: after.ring }, 'ring changed');
  for (const [name, records] of after.partitions) {
    const was = currentLeader(before.partitions.get(name));
    const now = currentLeader(records);
    if (was?.id !== now?.id || was?.url !== now?.url) logger.info({ partition: name, leader: now ?? null }, 'leader changed');
  }
}

/**
 * Wires the real pieces (ZooKeeper watcher, HTTP transport, forwarder, app)
 * and listens. `auth` proves the cluster secret to the replicas. ZooKeeper is joined in the background: until it answers,
 * `/readyz` says 503 and requests wait for a ring within their deadline.
 */
export async function startGate(config: GateConfig, auth: ClusterAuth, logger: Logger): Promise<RunningGate> {
  const routing = new RoutingState();
  const watcher = new ClusterWatcher({
    connectString: config.zk,
    zkDigest: config.zkDigest,
    cluster: config.cluster,
    sessionTimeoutMs: config.sessionTimeoutMs,
    gateUrl: config.advertise,
    logger,
    onSnapshot: (snapshot) => {
      logChanges(logger, routing.snapshot(), snapshot);
      routing.update(snapshot);
    },
  });
  // A connect timeout is a safe "refused"; it must fire before the attempt's own timeout, which is not.
  const transport = new MuxTransport({
    auth,
    // An answer carries at most one value.
    maxFrameBytes: config.maxValueBytes + MUX_FRAME_HEADROOM,
    connectTimeoutMs: Math.min(1000, config.writeTimeoutMs),
  });
  const forwarder = new Forwarder({ source: routing, transport, writeTimeoutMs: config.writeTimeoutMs });
  const snapshots = new SnapshotProxy({
    routing,
    transport: new UndiciStreamTransport({ connectTimeoutMs: Math.min(1000, config.writeTimeoutMs) }),
    writeTimeoutMs: config.writeTimeoutMs,
  });
  const fetchStatus = httpStatusFetcher(STATUS_TIMEOUT_MS, auth);
  const summaries = new RingSummaries();
  const summary = () => {
    const snapshot = routing.snapshot();
    return summaries.summary(snapshot.ring, watcher.migrationState(), (partition) => currentLeader(snapshot.partitions.get(partition)) !== undefined);
  };
  const app = createApp({
    forwarder,
    maxValueBytes: config.maxValueBytes,
    clusterView: () => buildClusterView(config.cluster, routing.snapshot(), fetchStatus, watcher.problems(), summary()),
    readiness: () => watcher.readiness(),
    logger,
    snapshots,
    migrations: migrationAdmin({
      cluster: config.cluster,
      zookeeper: () => watcher.zookeeper(),
      snapshot: () => routing.snapshot(),
      migrationRecords: () => watcher.migrationState(),
      summary,
      fetchStatus,
    }),
  });

  const server = createServer(app);
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port, advertise: config.advertise, cluster: config.cluster }, 'kvgate listening');
  const joined = watcher.start().then(() => logger.info(watcher.readiness(), 'cluster loaded'));
  joined.catch((error: unknown) => logger.error({ err: error }, 'cannot join ZooKeeper'));

  return {
    url: `http://${address.address}:${address.port}`,
    server,
    routing,
    watcher,
    joined,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      watcher.stop();
      await transport.close();
      await snapshots.close();
    },
  };
}
