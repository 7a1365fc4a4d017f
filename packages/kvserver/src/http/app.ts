import express, { type Express } from 'express';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';
import { adminRoutes } from './admin-routes';
import { errorHandler, unknownRoute } from './error-handler';
import { internalRoutes } from './internal-routes';
import { publicRoutes } from './public-routes';

export interface AppDeps {
  replica: Replica;
  partition: string;
  maxValueBytes: number;
  logger: Logger;
  owns(key: string): boolean;
  /** Why the replica cannot serve yet, or undefined when it can. */
  notReadyBecause(): string | undefined;
}

/** The replica's HTTP app, apart from main so tests drive it with supertest. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_request, response) => {
    response.json({ ok: true });
  });
  app.get('/readyz', (_request, response) => {
    const reason = deps.notReadyBecause();
    if (reason) response.status(503).json({ error: { code: 'UNAVAILABLE', message: reason } });
    else response.json({ ok: true, ...deps.replica.status() });
  });
  app.use(internalRoutes(deps.replica));
  app.use(adminRoutes(deps));
  app.use(publicRoutes(deps));
  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
