import express, { type Router } from 'express';
import { CLUSTER_PROOF_HEADER, proofSubject, type ClusterAuth } from '@kvstore/cluster';
import { KvError, badRequest } from '@kvstore/protocol';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';
import { writeSnapshot } from '../wire/snapshot-stream';

/**
 * Replica-to-replica API over HTTP: the snapshot stream and status. Appends
 * travel over the internal protocol (wire/). Every request must prove the
 * cluster secret; one that does not is answered 401 and its connection
 * closed, so a refusal is logged once per connection.
 */
export function internalRoutes(replica: Replica, auth: ClusterAuth, logger: Logger): Router {
  const router = express.Router();

  router.use('/internal', (request, response, next) => {
    const refusal = auth.check(proofSubject(request.method, request.originalUrl), request.get(CLUSTER_PROOF_HEADER));
    if (refusal === undefined) {
      next();
      return;
    }
    logger.warn({ remote: request.socket.remoteAddress, url: request.originalUrl.slice(0, 200), reason: refusal }, 'internal request refused: no valid cluster proof');
    response.set('connection', 'close');
    next(new KvError('UNAUTHORIZED', 'internal routes need a proof of the cluster secret'));
  });

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
