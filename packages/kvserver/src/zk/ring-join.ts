import { beginMigration } from '@kvstore/cluster';
import { KvError, clusterPaths } from '@kvstore/protocol';
import type { RoutingRecords } from './routing-records';
import { sleep, type Clock } from '../clock';
import type { Logger } from '../replication/types';

export interface RingJoinDeps {
  cluster: string;
  partition: string;
  records: RoutingRecords;
  clock: Clock;
  logger: Logger;
  stopped(): boolean;
}

const RETRY_MS = 1000;

/**
 * `--join auto` on a sealed ring: starts the migration that adds this
 * partition, once no other migration runs (one at a time). On a ring that
 * is not sealed the partition was put on it at start, with no copying. A
 * partition that was taken off the ring is not added back this way (a
 * replica of it restarting must not undo the removal): only by hand.
 */
export async function joinByMigration(deps: RingJoinDeps): Promise<void> {
  let waitingFor: string | undefined;
  while (!deps.stopped()) {
    const ring = deps.records.currentRing;
    if (ring?.has(deps.partition)) return;
    const session = deps.records.zk();
    if (ring && session) {
      try {
        if (await session.getData(clusterPaths(deps.cluster).removed(deps.partition))) {
          deps.logger.warn({ partition: deps.partition }, `partition ${deps.partition} was taken off the ring: add it back with \`kvctl cluster add-partition ${deps.partition}\``);
          return;
        }
        const { migration } = await beginMigration(session, deps.cluster, { kind: 'add', partition: deps.partition }, deps.clock.now());
        deps.logger.info({ migration: migration.id }, `joining the cluster: slots move to ${deps.partition} by an online migration`);
        return;
      } catch (error) {
        const running = deps.records.currentMigration;
        if (error instanceof KvError && error.code === 'CONFLICT' && running) {
          if (waitingFor !== running.id) deps.logger.info({ migration: running.id }, 'another migration runs: joining once it ends');
          waitingFor = running.id;
        } else if (!(error instanceof KvError && error.code === 'BAD_REQUEST' && deps.records.currentRing?.has(deps.partition))) {
          deps.logger.warn({ err: error }, 'could not start the migration that adds this partition; retrying');
        }
      }
    }
    await sleep(deps.clock, RETRY_MS);
  }
}
