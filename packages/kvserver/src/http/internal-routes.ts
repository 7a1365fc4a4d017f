import express, { type Router } from 'express';
import { badRequest } from '@kvstore/topology';
import { fromWire, type WireEntry } from '../replication/entry';
import type { AppendRequest, InstallSnapshotRequest } from '../replication/messages';
import type { Replica } from '../replication/replica';
import { writeSnapshot } from './snapshot-stream';

/** Replica-to-replica API. It trusts its network (see README, "Deployment"). */
export function internalRoutes(replica: Replica): Router {
  const router = express.Router();
  const json = express.json({ limit: '64mb' });

  router.post('/internal/append', json, async (request, response) => {
    response.json(await replica.handleAppend(parseAppend(request.body)));
  });

  router.post('/internal/install-snapshot', json, async (request, response) => {
    response.json(await replica.installSnapshot(parseInstall(request.body)));
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

function integerField(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (!Number.isSafeInteger(value)) throw badRequest(`${name} must be an integer`);
  return value as number;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw badRequest(`${name} must be a string`);
  return value;
}

function parseInstall(body: unknown): InstallSnapshotRequest {
  if (typeof body !== 'object' || body === null) throw badRequest('body must be a JSON object');
  const fields = body as Record<string, unknown>;
  return { epoch: integerField(fields, 'epoch'), leaderId: stringField(fields, 'leaderId'), leaderUrl: stringField(fields, 'leaderUrl') };
}

function parseAppend(body: unknown): AppendRequest {
  const header = parseInstall(body);
  const fields = body as Record<string, unknown>;
  if (!Array.isArray(fields.entries)) throw badRequest('entries must be an array');
  let entries;
  try {
    entries = (fields.entries as WireEntry[]).map(fromWire);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return {
    ...header,
    prevSeq: integerField(fields, 'prevSeq'),
    prevEpoch: integerField(fields, 'prevEpoch'),
    commitSeq: integerField(fields, 'commitSeq'),
    entries,
  };
}
