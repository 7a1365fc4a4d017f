import { pipeline } from 'node:stream/promises';
import { HEADER_PARTITION, HEADER_REPLICA, badRequest } from '@kvstore/protocol';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { MigrationAdmin } from '../cluster/migration-admin';
import type { SnapshotProxy } from '../proxy/snapshot-proxy';
import { requestIdOf } from './request-id';

/**
 * `GET /v1/admin/partitions/<p>/snapshot`: the partition leader's snapshot
 * (NDJSON: header `{partition, seq, epoch, keys}`, records, trailer
 * `{end: count}`), streamed through without holding it: backpressure from
 * the client reaches the leader. Errors before the first byte are the usual
 * JSON answers (404 for a partition not on the ring, 503 without a leader);
 * a failure once the stream flows cuts it, and the reader sees no trailer.
 */
export function adminRouter(snapshots: Pick<SnapshotProxy, 'open'>, logger?: Logger): Router {
  const router = express.Router();
  router.get('/v1/admin/partitions/:partition/snapshot', async (req, res) => {
    const result = await snapshots.open(req.params.partition, requestIdOf(req));
    if (result.partition !== undefined) res.setHeader(HEADER_PARTITION, result.partition);
    if (result.replica !== undefined) res.setHeader(HEADER_REPLICA, result.replica);
    if (!result.ok) throw result.error;
    res.status(200);
    res.setHeader('content-type', result.response.headers['content-type'] ?? 'application/x-ndjson');
    res.setHeader('cache-control', 'no-store');
    try {
      await pipeline(result.response.body, res);
    } catch (error) {
      // pipeline has destroyed both ends; a client that went away is not worth a warning.
      if (!req.destroyed && !res.writableEnded) {
        logger?.warn({ err: error, requestId: requestIdOf(req), partition: result.partition, replica: result.replica }, 'snapshot stream cut');
      }
    }
  });
  return router;
}

/**
 * Migrations of slots (docs/api.md, "Resharding"): start one (202 with its
 * view), abort it, see it; and take a dead partition off the ring by force
 * (200 with what it gave up). Refusals are KvErrors, answered by the one
 * error handler: 400 for a bad name or a plan that moves nothing, 409 while
 * another migration runs or when none runs to abort.
 */
export function migrationRouter(admin: MigrationAdmin): Router {
  const router = express.Router();
  router.post('/v1/admin/partitions/:partition', async (req, res) => {
    res.status(202).json(await admin.begin({ kind: 'add', partition: req.params.partition }));
  });
  router.delete('/v1/admin/partitions/:partition', async (req, res) => {
    const { partition } = req.params;
    if (isForced(req.query.force)) res.json(await admin.forceRemove(partition));
    else res.status(202).json(await admin.begin({ kind: 'remove', partition }));
  });
  router.post('/v1/admin/rebalance', async (_req, res) => {
    res.status(202).json(await admin.begin({ kind: 'rebalance' }));
  });
  router.get('/v1/admin/migration', (_req, res) => {
    res.json(admin.current());
  });
  router.post('/v1/admin/migration/abort', async (_req, res) => {
    res.status(202).json(await admin.abort());
  });
  return router;
}

function isForced(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw badRequest('force must be true or false, given once');
}
