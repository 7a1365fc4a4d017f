import type { RequestListener } from 'node:http';
import { serveMetrics } from '@kvstore/cluster';
import { isKvUrl, notFound, unavailable, type ClusterView } from '@kvstore/protocol';
import express from 'express';
import type { Logger } from 'pino';
import type { MigrationAdmin } from '../cluster/migration-admin';
import type { Forwarder } from '../proxy/forwarder';
import type { SnapshotProxy } from '../proxy/snapshot-proxy';
import { adminRouter, migrationRouter } from './admin-routes';
import { routeOf, type GateMetrics } from '../metrics/gate-metrics';
import { errorHandler } from './error-handler';
import { seedRouter, serveKvHttp } from './kv-routes';

export interface AppDeps {
  forwarder: Pick<Forwarder, 'forward'>;
  maxValueBytes: number;
  clusterView: () => Promise<ClusterView>;
  readiness: () => { ready: boolean; reason: string };
  logger?: Logger;
  /** Streams partition snapshots (`/v1/admin/partitions/<p>/snapshot`); without it the route is absent. */
  snapshots?: Pick<SnapshotProxy, 'open'>;
  /** Starts, aborts and shows migrations of slots (`/v1/admin/partitions/<p>`, `/v1/admin/rebalance`, `/v1/admin/migration`); without it those routes are absent. */
  migrations?: MigrationAdmin;
  /** Counts every request and serves `GET /metrics`; without it neither happens. */
  metrics?: GateMetrics;
}

/**
 * The gate's HTTP surface, without a port: main listens, tests use
 * supertest. `/v1/kv` is served on plain node:http (the data path, where
 * express would cost several times the CPU of the request); the cluster
 * view, probes, admin and seed routes on express, where that cost does not
 * matter.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // The replica's ETag (the key's version) is the only one a client should see.
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', (_req, res) => {
    const { ready, reason } = deps.readiness();
    if (!ready) throw unavailable(`not ready: ${reason}`);
    res.json({ ok: true });
  });
  const { metrics } = deps;
  if (metrics) {
    app.get('/metrics', (_req, res) => {
      serveMetrics(metrics.registry, res);
    });
  }
  app.get('/v1/cluster', async (_req, res) => {
    res.json(await deps.clusterView());
  });
  if (deps.snapshots) app.use(adminRouter(deps.snapshots, deps.logger));
  if (deps.migrations) app.use(migrationRouter(deps.migrations));
  app.use(seedRouter(deps));

  app.use((req, _res, next) => {
    const path = req.path.length > 200 ? `${req.path.slice(0, 200)}...` : req.path;
    next(notFound(`no route for ${req.method} ${path}`));
  });
  app.use(errorHandler(deps.maxValueBytes, deps.logger));
  return (request, response) => {
    const url = request.url ?? '';
    if (isKvUrl(url)) {
      void serveKvHttp(deps, request, response);
      return;
    }
    if (metrics) {
      const started = metrics.arrived();
      // 'close' comes after the answer, or instead of it when the client went away.
      response.once('close', () => metrics.answered(started, routeOf(url.split('?', 1)[0]!), request.method, response.statusCode));
    }
    app(request, response);
  };
}
