import express, { type Router } from 'express';
import { CLUSTER_PROOF_HEADER, peerCertificateRefusal, proofSubject, type ClusterAuth } from '@kvstore/cluster';
import { KvError, badRequest, isValidName } from '@kvstore/protocol';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';
import { writeSnapshot } from '../wire/snapshot-stream';

/** The longest a planned transfer may wait for its target to catch up. */
const MAX_TRANSFER_TIMEOUT_MS = 60_000;

/**
 * Replica-to-replica API over HTTP: the snapshot stream and status, and the
 * operator's changes a gate relays to the leader (leader transfer,
 * remove-member; docs/api.md, "Leadership and members"). Appends
 * travel over the internal protocol (wire/). Every request must prove the
 * cluster secret (and, with TLS, come with a client certificate of the
 * cluster CA); one that does not is answered 401 and its connection
 * closed, so a refusal is logged once per connection.
 */
export function internalRoutes(replica: Replica, auth: ClusterAuth, logger: Logger, requirePeerCertificate = false): Router {
  const router = express.Router();

  router.use('/internal', (request, response, next) => {
    const proofRefusal = auth.check(proofSubject(request.method, request.originalUrl), request.get(CLUSTER_PROOF_HEADER));
    const refusal = proofRefusal === undefined ? (requirePeerCertificate ? peerCertificateRefusal(request.socket) : undefined) : `no valid cluster proof (${proofRefusal})`;
    if (refusal === undefined) {
      next();
      return;
    }
    logger.warn({ remote: request.socket.remoteAddress, url: request.originalUrl.slice(0, 200), reason: refusal }, 'internal request refused');
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

  router.post('/internal/leader-transfer', async (request, response) => {
    const { to, timeoutMs } = request.query;
    if (to !== undefined && (typeof to !== 'string' || !isValidName(to))) throw badRequest('to must be one replica id');
    const ms = Number(timeoutMs);
    if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TRANSFER_TIMEOUT_MS) throw badRequest(`timeoutMs must be an integer from 1 to ${MAX_TRANSFER_TIMEOUT_MS}`);
    response.json(await replica.transferLeadership(to, ms));
  });

  router.post('/internal/members/:id/remove', async (request, response) => {
    response.json({ isr: await replica.removeMember(request.params.id) });
  });

  return router;
}
