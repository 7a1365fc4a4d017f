import type { RequestListener } from 'node:http';
import express from 'express';
import { serveMetrics, type ClusterAuth } from '@kvstore/cluster';
import type { MuxDoor, MuxHandlers } from '@kvstore/wire';
import { isKvUrl, unavailable } from '@kvstore/protocol';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';
import { peerMuxHandlers } from '../wire/peer-handlers';
import type { ImportReceiver } from '../migration/import-receiver';
import type { ReplicaMetrics } from '../metrics/replica-metrics';
import { adminRoutes } from './admin-routes';
import { errorHandler, unknownRoute } from './error-handler';
import { internalRoutes } from './internal-routes';
import { KvRequestLog, clientMuxDoor, kvMuxHandler, serveKvHttp } from './kv-http';
import { KvService, type KeyRouting } from './kv-service';
import { kvAccessGranted, publicAccessGuard, type PublicAuth } from './public-auth';
import { nameRequests } from './request-id';
import { seedRoutes } from './seed-routes';

export interface AppDeps {
  replica: Replica;
  partition: string;
  maxValueBytes: number;
  logger: Logger;
  /** Checks the proofs that internal routes need. */
  auth: ClusterAuth;
  /** With TLS: internal routes also want a client certificate of the cluster CA. */
  requirePeerCertificate?: boolean;
  routing: KeyRouting;
  /** The destination's side of slot moves. */
  imports: ImportReceiver;
  /** Why the replica cannot serve yet, or undefined when it can. */
  notReadyBecause(): string | undefined;
  /** Log a `/v1/kv` request that takes at least this long (0: every one); without it, none. */
  slowRequestMs?: number;
  /** Serves `GET /metrics` and times writes and strong reads; without it neither happens. */
  metrics?: ReplicaMetrics;
  /** `--auth on`: the public routes want a user's token (public-auth.ts); without it they are open. */
  users?: PublicAuth;
}

/** What a replica serves: plain HTTP, the internal protocol's frames (see main.ts), and clients' kv frames. */
export interface ReplicaApp {
  http: RequestListener;
  mux: MuxHandlers;
  /** The clients' door, `/v1/mux`. */
  clientMux: Record<string, MuxDoor>;
}

/**
 * The replica's HTTP surface, apart from main so tests drive it with
 * supertest. `/v1/kv` runs on plain node:http (the data path); the rest,
 * where a request's cost does not matter, on express.
 */
export function createApp(deps: AppDeps): ReplicaApp {
  const kv = new KvService({ ...deps, timings: deps.metrics });
  const kvLog = new KvRequestLog(deps.logger, deps.partition, deps.slowRequestMs);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(nameRequests);
  app.get('/healthz', (_request, response) => {
    response.json({ ok: true });
  });
  app.get('/readyz', (_request, response) => {
    const reason = deps.notReadyBecause();
    if (reason) throw unavailable(reason);
    response.json({ ok: true, ...deps.replica.status() });
  });
  const { metrics, users } = deps;
  if (users) app.use(publicAccessGuard(users, deps));
  if (metrics) {
    app.get('/metrics', (_request, response) => {
      serveMetrics(metrics.registry, response);
    });
  }
  app.use(internalRoutes(deps.replica, deps.auth, deps.logger, deps.requirePeerCertificate));
  app.use(adminRoutes(deps));
  app.use(seedRoutes(kv, deps.maxValueBytes));
  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return {
    http: (request, response) => {
      if (!isKvUrl(request.url ?? '')) app(request, response);
      else if (!users) void serveKvHttp(kv, kvLog, request, response, deps.maxValueBytes);
      else void kvAccessGranted(users, kv, request, response).then((granted) => (granted ? serveKvHttp(kv, kvLog, request, response, deps.maxValueBytes) : undefined));
    },
    mux: { ...kvMuxHandler(kv, kvLog), ...peerMuxHandlers(deps.replica, deps.imports) },
    clientMux: clientMuxDoor(kv, kvLog, users, deps.maxValueBytes),
  };
}
