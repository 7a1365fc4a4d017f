import express, { type Router } from 'express';
import { HEADER_PARTITION, HEADER_REPLICA, slotOf } from '@kvstore/protocol';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';
import type { SnapshotRecord } from '../replication/kv-store';
import { writeSnapshot } from '../wire/snapshot-stream';
import { requestIdOf } from './request-id';

export interface AdminRouteDeps {
  replica: Replica;
  partition: string;
  logger: Logger;
}


/**
 * Operator routes of one replica. `GET /v1/admin/snapshot`: the partition's
 * state at one sequence number, as the NDJSON stream followers catch up
 * from (header `{partition, seq, epoch, keys}`, one line per live record,
 * trailer `{end: count}`). Only the leader serves it, after confirming it
 * still leads, so the snapshot holds every write acknowledged before the
 * request; a follower answers 421 NOT_LEADER with the leader's url.
 * Records of slots that moved away (fenced, waiting for the purge) are not
 * this partition's any more and are left out.
 */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const router = express.Router();

  router.get('/v1/admin/snapshot', async (_request, response) => {
    response.set(HEADER_PARTITION, deps.partition).set(HEADER_REPLICA, deps.replica.id);
    // The round to the in-sync followers every strong read makes, without a key (whose slot may have moved away).
    const leadership = deps.replica.requireLeadership();
    await leadership.readBarrier(leadership.commitSeq);
    // On disk, the snapshot reads what is committed: wait for every write applied so far.
    await deps.replica.settled();
    const snapshot = deps.replica.snapshotFor(deps.replica.epoch);
    // A backup is rare and worth a line: its request id is the one kvctl's and the gate's lines carry.
    deps.logger.info({ requestId: requestIdOf(response), seq: snapshot.seq, epoch: snapshot.epoch }, 'snapshot stream started');
    // A read failing midway cuts the stream (the reader sees no trailer) instead of throwing out of a 'drain' callback.
    const records = guarded(owned(snapshot.records, snapshot.slots.fenced), (error) => {
      deps.logger.error({ err: error, requestId: requestIdOf(response) }, 'snapshot read failed; stream cut');
      response.destroy();
    });
    const guardedSource = { ...snapshot, records, close: () => snapshot.close() };
    // `keys` counts what the store holds, expired values included: an estimate for progress, not the count.
    writeSnapshot(response, guardedSource, { partition: deps.partition, keys: deps.replica.status().keys });
  });

  return router;
}

function* owned(records: Iterable<SnapshotRecord>, fenced: ReadonlySet<number>): Generator<SnapshotRecord> {
  for (const record of records) if (fenced.size === 0 || !fenced.has(slotOf(record.key))) yield record;
}

function guarded(records: Iterable<SnapshotRecord>, onError: (error: unknown) => void): Iterable<SnapshotRecord> {
  return {
    *[Symbol.iterator]() {
      try {
        yield* records;
      } catch (error) {
        onError(error);
      }
    },
  };
}
