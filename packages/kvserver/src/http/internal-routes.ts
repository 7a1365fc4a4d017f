import express, { type Router } from 'express';
import { badRequest } from '@kvstore/topology';
import type { Replica } from '../replication/replica';
import { writeSnapshot } from './snapshot-stream';

/**
 * Replica-to-replica API over HTTP: the snapshot stream and status. Appends
 * travel over the internal protocol (wire/). It trusts its network (see
 * README, "Deployment").
 */
export function internalRoutes(replica: Replica): Router {
  const router = express.Router();

  router.get('/internal/snapshot', (request, response) => {
    const epoch = Number(request.query.epoch);
    if (!Number.isSafeInteger(epoch)) throw badRequest('epoch is required');
    writeSnapshot(response, replica.snapshotFor(epoch));
  });

  router.get('/internal/status', (_request, response) => {
    response.json(replica.status());
  });

  return router;
}
