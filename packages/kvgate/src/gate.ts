import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZkSession, createLimitedServer, type ClusterAuth, type ClusterTls, type ZkClient } from '@kvstore/cluster';
import { Agent, buildConnector, setGlobalDispatcher } from 'undici';
import { clusterPaths, type ClusterPaths } from '@kvstore/protocol';
import type { Logger } from 'pino';
import { Authenticator, UserDirectory } from '@kvstore/cluster';
import { MUX_FRAME_HEADROOM } from '@kvstore/wire';
import { bootstrapAdmin } from './auth/bootstrap';
import { userAdmin } from './auth/user-admin';
import { buildClusterView, httpStatusFetcher } from './cluster/cluster-view';
import { memberAdmin } from './cluster/member-admin';
import { migrationAdmin } from './cluster/migration-admin';
import { RingSummaries } from './cluster/ring-summary';
import type { GateConfig } from './config';
import { createApp, type AppDeps } from './http/app';
import { ClientLimiter } from './limits/client-limiter';
import { FailedLogins } from './limits/failed-logins';
import { RequestLimits } from './limits/request-limits';
import { GateMetrics } from './metrics/gate-metrics';
import { Forwarder } from './proxy/forwarder';
import { MuxTransport } from './proxy/mux-transport';
import { SnapshotProxy, UndiciStreamTransport } from './proxy/snapshot-proxy';
import { RoutingState } from './routing/routing-state';
import { routingView } from './routing/routing-view';
import { currentLeader } from './routing/routing-table';
import type { ClusterSnapshot } from './routing/snapshot';
import { startWebView, type WebView } from './ui/web-view';
import { ClusterWatcher } from './zk/cluster-watcher';

/** How long `GET /v1/cluster` waits for a replica's status before showing it as unknown. */
const STATUS_TIMEOUT_MS = 500;

export interface RunningGate {
  /** Where the gate listens, e.g. `http://127.0.0.1:3000`. */
  url: string;
  server: Server;
  routing: RoutingState;
  watcher: ClusterWatcher;
  /** Its metrics registry (what `GET /metrics` serves). */
  metrics: GateMetrics;
  /** Settles once the cluster is loaded; rejects only when ZooKeeper refuses this gate its nodes (NO_AUTH): main exits then. */
  joined: Promise<void>;
  /** Stops accepting requests, lets those in flight finish, then leaves ZooKeeper. */
  close(): Promise<void>;
}

/** `--auth on`: tokens checked against the watched users (failed logins limited per address), and the user admin writing to ZooKeeper. */
function authOn(config: GateConfig, users: UserDirectory, zookeeper: () => ZkClient, paths: ClusterPaths, logger: Logger, metrics: GateMetrics): AppDeps['auth'] {
  const authenticator = new Authenticator(users, logger);
  const admin = userAdmin(zookeeper, paths);
  if (config.failedLogins.maxFailures === 0) return { authenticate: (authorization) => authenticator.authenticate(authorization), users: admin };
  const failedLogins = new FailedLogins(config.failedLogins, authenticator, () => performance.now(), logger, () => metrics.rateLimited('failed_logins'));
  return { authenticate: (authorization, address) => failedLogins.authenticate(authorization, address), users: admin };
}

/** The per-client limits, when either is set; with neither, the data path does not look. */
function clientLimitsOf(config: GateConfig, metrics: GateMetrics): RequestLimits | undefined {
  const { ratePerS, maxInFlight } = config.clientLimits;
  if (ratePerS === 0 && maxInFlight === 0) return undefined;
  return new RequestLimits(new ClientLimiter(config.clientLimits, () => performance.now()), (reason) => metrics.rateLimited(reason));
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
export async function startGate(config: GateConfig, auth: ClusterAuth, logger: Logger, tls?: ClusterTls): Promise<RunningGate> {
  // fetch (replica status, leader transfers) goes through the global dispatcher: it must verify replicas against the cluster CA.
  if (tls !== undefined) setGlobalDispatcher(new Agent({ connect: tls.connector(buildConnector, 1000) }));
  const routing = new RoutingState();
  // Set below, before the watcher starts: the first snapshot comes after.
  let webView: WebView | undefined;
  const paths = clusterPaths(config.cluster);
  const users = config.auth ? new UserDirectory(paths, logger) : undefined;
  // Connections are counted by the transport, made below: read only when scraped.
  const metrics: GateMetrics = new GateMetrics({ routingVersion: () => routing.table().ringVersion, connections: () => transport.connectionCounts() });
  const watcher = new ClusterWatcher({
    connectString: config.zk,
    zkDigest: config.zkDigest,
    cluster: config.cluster,
    sessionTimeoutMs: config.sessionTimeoutMs,
    gateUrl: config.advertise,
    logger,
    watches: users ? [users] : [],
    onSnapshot: (snapshot) => {
      logChanges(logger, routing.snapshot(), snapshot);
      routing.update(snapshot);
      webView?.observe(snapshot);
    },
    connect: metrics.zooKeeper.wrap((connectString, options) => ZkSession.connect(connectString, options)),
  });
  // A connect timeout is a safe "refused"; it must fire before the attempt's own timeout, which is not.
  const transport = new MuxTransport({
    credentials: auth.muxCredentials,
    // An answer carries at most one value.
    maxFrameBytes: config.maxValueBytes + MUX_FRAME_HEADROOM,
    connectTimeoutMs: Math.min(1000, config.writeTimeoutMs),
    tls: tls && (() => tls.clientOptions()),
  });
  const forwarder = new Forwarder({ source: routing, transport, writeTimeoutMs: config.writeTimeoutMs, onRetry: (reason) => metrics.retried(reason) });
  const snapshots = new SnapshotProxy({
    routing,
    transport: new UndiciStreamTransport({ connectTimeoutMs: Math.min(1000, config.writeTimeoutMs), tls, auth }),
    writeTimeoutMs: config.writeTimeoutMs,
  });
  const fetchStatus = httpStatusFetcher(STATUS_TIMEOUT_MS, auth);
  const summaries = new RingSummaries();
  const summary = () => {
    const snapshot = routing.snapshot();
    return summaries.summary(snapshot.ring, watcher.migrationState(), (partition) => currentLeader(snapshot.partitions.get(partition)) !== undefined);
  };
  const clusterView = () => buildClusterView(config.cluster, routing.snapshot(), fetchStatus, watcher.problems(), summary());
  webView = startWebView({ registry: metrics.registry, routing, forwarder, clusterView });
  const app = createApp({
    forwarder,
    maxValueBytes: config.maxValueBytes,
    slowRequestMs: config.slowRequestMs,
    clusterView,
    routingView: () => routingView(routing.snapshot()),
    ui: webView.deps,
    readiness: () => watcher.readiness(),
    logger,
    metrics,
    limits: clientLimitsOf(config, metrics),
    snapshots,
    auth: users && authOn(config, users, () => watcher.zookeeper(), paths, logger, metrics),
    migrations: migrationAdmin({
      cluster: config.cluster,
      zookeeper: () => watcher.zookeeper(),
      snapshot: () => routing.snapshot(),
      migrationRecords: () => watcher.migrationState(),
      summary,
      fetchStatus,
    }),
    members: memberAdmin({
      cluster: config.cluster,
      zookeeper: () => watcher.zookeeper(),
      snapshot: () => routing.snapshot(),
      changed: (timeoutMs) => routing.changed(timeoutMs),
      auth,
    }),
  });

  const server = createLimitedServer(app, config.serverLimits, tls && { tls, askPeers: false });
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
  const joined = watcher.start().then(async () => {
    logger.info(watcher.readiness(), 'cluster loaded');
    const file = config.authBootstrapTokenFile;
    if (file !== undefined) {
      await bootstrapAdmin(watcher.zookeeper(), paths, file, logger).catch((error: unknown) => logger.error({ err: error, file }, 'could not bootstrap the admin user'));
    }
  });
  joined.catch((error: unknown) => logger.error({ err: error }, 'cannot join ZooKeeper'));

  return {
    url: `${tls === undefined ? 'http' : 'https'}://${address.address}:${address.port}`,
    server,
    routing,
    watcher,
    metrics,
    joined,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      watcher.stop();
      webView?.stop();
      await transport.close();
      await snapshots.close();
      tls?.close();
    },
  };
}
