import { performance } from 'node:perf_hooks';
import type { RequestListener } from 'node:http';
import { SlowRequestLog, serveMetrics } from '@kvstore/cluster';
import { isKvUrl, notFound, unavailable, type ClusterView, type RoutingView } from '@kvstore/protocol';
import express from 'express';
import type { Logger } from 'pino';
import type { MemberAdmin } from '../cluster/member-admin';
import { accessGuard, principalOf, visibleClusterView, type RequestAuthenticator } from '../auth/access-guard';
import type { UserAdmin } from '../auth/user-admin';
import { userRouter } from '../auth/user-routes';
import type { MigrationAdmin } from '../cluster/migration-admin';
import type { Forwarder } from '../proxy/forwarder';
import type { SnapshotProxy } from '../proxy/snapshot-proxy';
import type { RequestLimits } from '../limits/request-limits';
import { accessLog } from './access-log';
import { uiRouter, type UiDeps } from '../ui/ui-routes';
import { isOpenUiRoute, sessionRouter, uiAuthorization } from '../ui/ui-session';
import { adminRouter, memberRouter, migrationRouter } from './admin-routes';
import { routeOf, type GateMetrics } from '../metrics/gate-metrics';
import { errorHandler } from './error-handler';
import { seedRouter, serveKvHttp } from './kv-routes';
import { nameRequests } from './request-id';

export interface AppDeps {
  forwarder: Pick<Forwarder, 'forward'>;
  maxValueBytes: number;
  /** Log a `/v1/kv` request that takes at least this long (0: every one); without it, none. */
  slowRequestMs?: number;
  clusterView: () => Promise<ClusterView>;
  /** `GET /v1/routing` for self-routing clients; undefined before a ring is loaded (503). Without it the route is absent. */
  routingView?: () => RoutingView | undefined;
  readiness: () => { ready: boolean; reason: string };
  logger?: Logger;
  /** Streams partition snapshots (`/v1/admin/partitions/<p>/snapshot`); without it the route is absent. */
  snapshots?: Pick<SnapshotProxy, 'open'>;
  /** Starts, aborts and shows migrations of slots (`/v1/admin/partitions/<p>`, `/v1/admin/rebalance`, `/v1/admin/migration`); without it those routes are absent. */
  migrations?: MigrationAdmin;
  /** The web view (`/ui/`, `/v1/ui/*`, `/` leads there); without it those routes are absent. */
  ui?: UiDeps;
  /** Leader transfers and in-sync member maintenance (`/v1/admin/partitions/<p>/leader-transfer`, `…/members/<id>/…`); without it those routes are absent. */
  members?: MemberAdmin;
  /** `--auth on`: every route but the probes wants a token (docs/security.md); `/v1/admin/users` manages them. */
  auth?: RequestAuthenticator & { users: UserAdmin };
  /** Counts every request and serves `GET /metrics`; without it neither happens. */
  metrics?: GateMetrics;
  /** Per-client request-rate and in-flight limits on every route but the probes (429); without it, none. */
  limits?: RequestLimits;
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
  app.use(nameRequests);
  if (deps.logger) app.use(accessLog(deps.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', (_req, res) => {
    const { ready, reason } = deps.readiness();
    if (!ready) throw unavailable(`not ready: ${reason}`);
    res.json({ ok: true });
  });
  if (deps.auth) app.use(accessGuard(deps.auth, deps.ui ? { isOpen: isOpenUiRoute, authorization: uiAuthorization } : undefined));
  // With --auth on, an admin's (its upstream label names the replicas' addresses).
  const { metrics } = deps;
  if (metrics) {
    app.get('/metrics', (_req, res) => {
      serveMetrics(metrics.registry, res);
    });
  }
  // Past the probes and /metrics (monitoring must see an overloaded gate), and after authentication, so that with --auth on a user's requests share one budget wherever they come from.
  if (deps.limits) app.use(deps.limits.middleware());
  if (deps.auth) app.use(userRouter(deps.auth.users));
  app.get('/v1/cluster', async (_req, res) => {
    res.json(visibleClusterView(await deps.clusterView(), principalOf(res)));
  });
  const { routingView } = deps;
  if (routingView) {
    app.get('/v1/routing', (_req, res) => {
      const view = routingView();
      if (!view) throw unavailable('no ring is loaded yet');
      res.json(view);
    });
  }
  if (deps.snapshots) app.use(adminRouter(deps.snapshots, deps.logger));
  if (deps.migrations) app.use(migrationRouter(deps.migrations));
  if (deps.ui) app.use(uiRouter(deps.ui), sessionRouter(deps.auth !== undefined));
  if (deps.members) app.use(memberRouter(deps.members));
  app.use(seedRouter(deps));

  app.use((req, _res, next) => {
    const path = req.path.length > 200 ? `${req.path.slice(0, 200)}...` : req.path;
    next(notFound(`no route for ${req.method} ${path}`));
  });
  app.use(errorHandler(deps.maxValueBytes, deps.logger));
  const slow = new SlowRequestLog(deps.logger, deps.slowRequestMs ?? Infinity);
  return (request, response) => {
    const url = request.url ?? '';
    if (isKvUrl(url)) {
      void serveKvHttp(deps, slow, request, response);
      return;
    }
    if (metrics) {
      metrics.arrived();
      const started = performance.now();
      // 'close' comes after the answer, or instead of it when the client went away.
      response.once('close', () => metrics.answered(performance.now() - started, routeOf(url.split('?', 1)[0]!), request.method, response.statusCode));
    }
    app(request, response);
  };
}
