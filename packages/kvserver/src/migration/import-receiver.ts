import { KvError, Ring, parseMigration, parseRing, parseState, slotOf, unavailable, type ClusterPaths } from '@kvstore/protocol';
import type { Replica } from '../replication/replica';
import type { RoutingRecords } from '../zk/routing-records';
import type { ImportRequest, ImportResponse } from './messages';
import { isActive, targetOf } from './plan';

export interface ImportReceiverDeps {
  partition: string;
  replica: Replica;
  paths: ClusterPaths;
  records: Pick<RoutingRecords, 'zk'>;
}

/**
 * The destination's side of a move. A chunk goes into this partition's log
 * only if ZooKeeper says, at that moment, that the migration runs, sends
 * these slots here, that they still belong to the sender's partition, and
 * that the sender leads it at its epoch: a deposed leader's late chunk
 * cannot overwrite slots that have since started taking writes here.
 */
export class ImportReceiver {
  constructor(private readonly deps: ImportReceiverDeps) {}

  async receive(request: ImportRequest): Promise<ImportResponse> {
    try {
      const leadership = this.deps.replica.requireLeadership();
      for (const record of request.records) {
        if (!request.slots.includes(slotOf(record.key))) throw new KvError('BAD_REQUEST', `key ${JSON.stringify(record.key)} is not in the slots being imported`);
      }
      await this.verify(request);
      const seq = await leadership.confirm({ type: 'import', slots: request.slots, clear: request.clear, versionFloor: request.versionFloor, records: request.records });
      return { ok: true, seq };
    } catch (error) {
      if (error instanceof KvError) return { ok: false, code: error.code, message: error.message };
      throw error;
    }
  }

  private async verify(request: ImportRequest): Promise<void> {
    const session = this.deps.records.zk();
    if (!session || session.isClosed) throw unavailable('not connected to ZooKeeper');
    const { paths, partition } = this.deps;
    const [migrationNode, ringNode, stateNode] = await Promise.all([
      session.getData(paths.migration),
      session.getData(paths.ring),
      session.getData(paths.state(request.from)),
    ]);
    const migration = migrationNode && parseMigration(migrationNode.data);
    if (!isActive(migration) || migration.id !== request.migration) throw new KvError('CONFLICT', `migration ${request.migration} is not running`);
    const ring = ringNode && new Ring(parseRing(ringNode.data));
    for (const slot of request.slots) {
      if (targetOf(migration, slot) !== partition) throw new KvError('CONFLICT', `slot ${slot} is not moving to ${partition}`);
      if (ring?.ownerOfSlot(slot) !== request.from) throw new KvError('CONFLICT', `slot ${slot} does not belong to ${request.from}`);
    }
    const state = stateNode && parseState(stateNode.data);
    if (state?.epoch !== request.fromEpoch) throw new KvError('CONFLICT', `${request.from} is not led at epoch ${request.fromEpoch}`);
  }
}
