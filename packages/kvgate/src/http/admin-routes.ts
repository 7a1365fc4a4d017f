import { pipeline } from 'node:stream/promises';
import { HEADER_PARTITION, HEADER_REPLICA, badRequest, isValidName } from '@kvstore/protocol';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { MemberAdmin } from '../cluster/member-admin';
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

/** How long a transfer waits for its target to catch up, unless `timeoutMs` says otherwise; and the most it may say. */
const DEFAULT_TRANSFER_TIMEOUT_MS = 10_000;
const MAX_TRANSFER_TIMEOUT_MS = 60_000;

/**
 * Planned leader transfers and maintenance of in-sync members (docs/api.md,
 * "Leadership and members"): each answers once the change is in ZooKeeper
 * (a transfer: once the new leader has won its epoch).
 */
export function memberRouter(admin: MemberAdmin): Router {
  const router = express.Router();
  router.post('/v1/admin/partitions/:partition/leader-transfer', async (req, res) => {
    const to = req.query.to === undefined ? undefined : replicaId(req.query.to, 'to');
    res.json(await admin.transferLeader(req.params.partition, to, transferTimeout(req.query.timeoutMs)));
  });
  router.post('/v1/admin/partitions/:partition/members/:id/remove', async (req, res) => {
    res.json(await admin.removeMember(req.params.partition, replicaId(req.params.id, 'replica id')));
  });
  router.post('/v1/admin/partitions/:partition/members/:id/restore', async (req, res) => {
    res.json(await admin.restoreMember(req.params.partition, replicaId(req.params.id, 'replica id')));
  });
  return router;
}

function replicaId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !isValidName(value)) throw badRequest(`${what} must be one replica id`);
  return value;
}

function transferTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TRANSFER_TIMEOUT_MS;
  const ms = Number(value);
  if (typeof value !== 'string' || !Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TRANSFER_TIMEOUT_MS) {
    throw badRequest(`timeoutMs must be an integer from 1 to ${MAX_TRANSFER_TIMEOUT_MS}, given once`);
  }
  return ms;
}
