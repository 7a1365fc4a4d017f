import { pipeline } from 'node:stream/promises';
import { HEADER_PARTITION, HEADER_REPLICA } from '@kvstore/protocol';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { SnapshotProxy } from '../proxy/snapshot-proxy';

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
    const result = await snapshots.open(req.params.partition);
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
        logger?.warn({ err: error, partition: result.partition, replica: result.replica }, 'snapshot stream cut');
      }
    }
  });
  return router;
}
