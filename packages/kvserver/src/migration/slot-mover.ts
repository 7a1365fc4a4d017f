import { ZkError, removalMarks, type ZkClient } from '@kvstore/cluster';
import {
  KvError,
  Ring,
  encodeRecord,
  parseLeader,
  parseMigration,
  parseProgress,
  parseRing,
  parseState,
  unavailable,
  type ClusterPaths,
  type MigrationRecord,
  type ProgressRecord,
} from '@kvstore/protocol';
import { sleep, type Clock } from '../clock';
import type { SnapshotRecord } from '../replication/kv-store';
import type { Leadership } from '../replication/leadership';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';
import type { RoutingRecords } from '../zk/routing-records';
import type { SlotTransport } from './messages';
import { flipSlots, isActive, nextBatch, reachedTarget, settledRing, slotsToUnfence, targetOf, type Batch } from './plan';

export interface SlotMoverOptions {
  /** Keys per second copied (and purged) at most, so a migration under load does not starve client traffic. */
  rateKeysPerSecond: number;
  /** About this many keys per batch: a batch's slots refuse writes from its fence to its flip. */
  batchKeys: number;
  /** Records and about how many bytes per import frame (and so per import entry in the destination's log); each frame is one commit inside the pause, so a batch of small values is one frame. */
  chunkRecords: number;
  chunkBytes: number;
  timeoutMs: number;
}

export const DEFAULT_SLOT_MOVER_OPTIONS: SlotMoverOptions = { rateKeysPerSecond: 20_000, batchKeys: 2000, chunkRecords: 2000, chunkBytes: 1024 * 1024, timeoutMs: 5000 };

export interface SlotMoverDeps {
  cluster: string;
  partition: string;
  replica: Replica;
  paths: ClusterPaths;
  records: RoutingRecords;
  transport: SlotTransport;
  clock: Clock;
  logger: Logger;
  options: SlotMoverOptions;
  /** Told of every batch moved (for metrics). */
  onBatchMoved?: (batch: MovedBatch) => void;
}

/** One batch of slots handed to its destination; times in ms. */
export interface MovedBatch {
  migration: string;
  to: string;
  slots: number;
  keys: number;
  bytes: number;
  /** From the fence to the flip: how long the batch's slots refused writes. */
  pauseMs: number;
  copyMs: number;
}

/** Records in import frames of at most `maxRecords` and about `maxBytes` (at least one record each; at least one frame, which clears the slots). */
function chunks(records: readonly SnapshotRecord[], maxRecords: number, maxBytes: number): SnapshotRecord[][] {
  const out: SnapshotRecord[][] = [[]];
  let bytes = 0;
  for (const record of records) {
    const size = Buffer.byteLength(record.key) + record.value.length + 32;
    const last = out[out.length - 1]!;
    if (last.length > 0 && (last.length >= maxRecords || bytes + size > maxBytes)) {
      out.push([record]);
      bytes = size;
    } else {
      last.push(record);
      bytes += size;
    }
  }
  return out;
}

/** The purge runs at 1/PURGE_SHARE of --migration-rate, PURGE_KEYS keys per entry at most. */
const PURGE_SHARE = 10;
const PURGE_KEYS = 500;

/** Retry pace after a failed step (a destination without a leader, ZooKeeper away). */
const RETRY_MS = 500;
/** With nothing to do, look again this often even without a watch firing (a purge left to do, say). */
const IDLE_MS = 1000;

/**
 * The source side of a migration, run by each partition's leader for its
 * own outgoing slots (docs/resharding.md): fence a batch in the log, copy
 * it into the destination's log, flip its owner in `/ring` by
 * compare-and-set, then purge it here in the background. Every step is
 * idempotent and starts from what the log and ZooKeeper say, so a new
 * leader (or this one after a failure) simply carries on.
 */
export class SlotMover {
  private running = false;
  private wake: (() => void) | undefined;
  private progress: ProgressRecord | undefined;
  private blocked: string | undefined;

  constructor(private readonly deps: SlotMoverDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.poke();
  }

  /** Something changed (the ring, the migration, leadership): look again now. */
  poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        busy = await this.step();
        if (this.blocked) await this.setBlocked(undefined);
      } catch (error) {
        const reason = (error as Error).message;
        if (this.blocked !== reason) this.deps.logger.warn({ err: error }, 'slot migration step failed; retrying');
        await this.setBlocked(reason).catch(() => {});
        await sleep(this.deps.clock, RETRY_MS);
        continue;
      }
      if (!busy) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, IDLE_MS);
      this.wake = () => {
        this.deps.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One step; true when it did something (look again at once). */
  private async step(): Promise<boolean> {
    const leadership = this.deps.replica.currentLeadership;
    const ring = this.deps.records.currentRing;
    const migration = this.deps.records.currentMigration;
    if (!leadership || !ring) return false;
    const self = this.deps.partition;
    const back = slotsToUnfence(ring, migration, self, leadership.slots.fenced);
    if (back.length > 0) {
      await leadership.confirm({ type: 'unfence', slots: back });
      this.deps.logger.info({ slots: back.length }, 'slots stay here (the migration was aborted or ended): serving them again');
      return true;
    }
    if (isActive(migration)) {
      const store = this.deps.replica.store;
      // Destinations without a leader wait; the others go on meanwhile.
      const waiting = new Set<string>();
      for (;;) {
        const batch = nextBatch(ring, migration, self, leadership.slots.fenced, (slot) => store.keysInSlot(slot), this.deps.options.batchKeys, waiting);
        if (!batch) break;
        const destination = await this.leaderOf(batch.to);
        if (destination) {
          await this.move(leadership, migration, batch, destination);
          return true;
        }
        waiting.add(batch.to);
        // A batch begun for it (by an earlier leader, or before its leader died) is served again while it waits.
        const stranded = batch.slots.filter((slot) => leadership.slots.fenced.has(slot));
        if (stranded.length > 0) await leadership.confirm({ type: 'unfence', slots: stranded });
      }
      if (waiting.size > 0) throw unavailable(`${[...waiting].map((name) => `partition ${name}`).join(', ')} has no leader: the slots for it wait`);
      if (reachedTarget(ring, migration)) await this.finish(migration.id);
    }
    return this.purge(leadership, ring);
  }

  private async move(leadership: Leadership, migration: MigrationRecord, batch: Batch, destination: string): Promise<void> {
    const { clock, options, replica } = this.deps;
    const started = clock.now();
    const fresh = batch.slots.filter((slot) => !leadership.slots.fenced.has(slot));
    // Committed and applied: the new fence, and with it (the log commits in order) any this leader appended before.
    if (fresh.length > 0) await leadership.confirm({ type: 'fence', slots: fresh });
    // A batch resumed as it is: its fences may be from an attempt that timed out before they were committed.
    else await leadership.readBarrier(leadership.log.lastSeq);
    const fenced = clock.now();
    const versionFloor = leadership.log.lastSeq + leadership.slots.versionOffset;
    const records = replica.store.recordsInSlots(batch.slots);
    let seq = 0;
    let bytes = 0;
    for (const [index, chunk] of chunks(records, options.chunkRecords, options.chunkBytes).entries()) {
      const answer = await this.deps.transport.importSlots(
        destination,
        { migration: migration.id, from: this.deps.partition, fromEpoch: leadership.epoch, slots: batch.slots, clear: index === 0, versionFloor, records: chunk },
        options.timeoutMs,
      );
      if (!answer.ok) throw new KvError(answer.code, `${batch.to} refused the import: ${answer.message}`);
      seq = answer.seq;
      for (const record of chunk) bytes += Buffer.byteLength(record.key) + record.value.length;
    }
    const copied = clock.now();
    if (!(await this.flip(leadership.epoch, migration.id, batch, seq))) return;
    const pauseMs = clock.now() - started;
    // Where a pause goes (fence committed, copy committed at the destination, flip in ZooKeeper), for whoever tunes it.
    const steps = { fenceMs: fenced - started, copyMs: copied - fenced, flipMs: clock.now() - copied };
    this.deps.logger.info({ to: batch.to, slots: batch.slots.length, keys: records.length, pauseMs, ...steps }, 'moved slots');
    this.deps.onBatchMoved?.({ migration: migration.id, to: batch.to, slots: batch.slots.length, keys: records.length, bytes, pauseMs, copyMs: steps.copyMs });
    await this.record(migration.id, batch.slots.length, records.length, bytes, pauseMs);
    // The pace is kept between batches, never inside one: a fenced slot waits for nothing but its own copy.
    await sleep(clock, (records.length / options.rateKeysPerSecond) * 1000);
  }

  /**
   * Gives the batch to its destination in `/ring`, if the migration still
   * sends it there and this replica still leads at its epoch (checked in the
   * same multi: a deposed leader's late flip cannot hand over slots that a
   * newer leader has unfenced and written since); false if not.
   */
  private async flip(epoch: number, migrationId: string, batch: Batch, since: number): Promise<boolean> {
    const session = this.session();
    const { paths, partition } = this.deps;
    for (let attempt = 0; attempt < 20; attempt++) {
      const [ringNode, migrationNode, stateNode] = await Promise.all([
        session.getData(paths.ring),
        session.getData(paths.migration),
        session.getData(paths.state(partition)),
      ]);
      if (!ringNode || !migrationNode || !stateNode) return false;
      const state = parseState(stateNode.data);
      if (state.epoch !== epoch || state.leader !== this.deps.replica.id) return false;
      const ring = new Ring(parseRing(ringNode.data));
      const migration = parseMigration(migrationNode.data);
      if (!isActive(migration) || migration.id !== migrationId) return false;
      if (batch.slots.some((slot) => ring.ownerOfSlot(slot) !== this.deps.partition || targetOf(migration, slot) !== batch.to)) return false;
      const next = flipSlots(ring, batch.slots, batch.to, since);
      try {
        await session.multi([
          { op: 'check', path: paths.migration, version: migrationNode.version },
          { op: 'check', path: paths.state(partition), version: stateNode.version },
          { op: 'setData', path: paths.ring, data: encodeRecord(next), version: ringNode.version },
        ]);
        return true;
      } catch (error) {
        if (!(error instanceof ZkError) || error.code !== 'BAD_VERSION') throw error;
      }
    }
    throw unavailable('could not update /ring: too much contention');
  }

  /**
   * Marks the migration ended and takes partitions that own nothing off the
   * ring, marked as removed (whichever source sees it first).
   */
  private async finish(migrationId: string): Promise<void> {
    const session = this.session();
    const { paths, clock } = this.deps;
    const [ringNode, migrationNode] = await Promise.all([session.getData(paths.ring), session.getData(paths.migration)]);
    if (!ringNode || !migrationNode) return;
    const ring = new Ring(parseRing(ringNode.data));
    const migration = parseMigration(migrationNode.data);
    if (!isActive(migration) || migration.id !== migrationId || !reachedTarget(ring, migration)) return;
    const ended: MigrationRecord = { ...migration, state: migration.state === 'running' ? 'done' : 'aborted', finishedAt: clock.now() };
    const settled = settledRing(ring, migration);
    const dropped = settled ? ring.partitions.filter((name) => !settled.partitions.includes(name)) : [];
    const marks = await removalMarks(session, this.deps.cluster, dropped);
    try {
      await session.multi([
        ...marks,
        { op: 'setData', path: paths.migration, data: encodeRecord(ended), version: migrationNode.version },
        settled
          ? { op: 'setData', path: paths.ring, data: encodeRecord(settled), version: ringNode.version }
          : { op: 'check', path: paths.ring, version: ringNode.version },
      ]);
      this.deps.logger.info({ migration: migrationId, state: ended.state }, 'migration ended');
    } catch (error) {
      // Another source finished it first, or the ring moved on: the next step looks again.
      if (!(error instanceof ZkError) || error.code !== 'BAD_VERSION') throw error;
    }
  }

  /**
   * Drops keys of slots that have moved away, in small entries at a tenth of
   * the copy's pace: nothing waits for it, and at the copy's pace the purge
   * of one step overloaded the next (a 1M-key bench: 2,000 writes timed out
   * while three partitions purged what the last step had moved).
   */
  private async purge(leadership: Leadership, ring: Ring): Promise<boolean> {
    const gone = [...leadership.slots.fenced].filter((slot) => ring.ownerOfSlot(slot) !== this.deps.partition);
    if (gone.length === 0) return false;
    const perSecond = Math.max(1, this.deps.options.rateKeysPerSecond / PURGE_SHARE);
    const keys = this.deps.replica.store.someKeysInSlots(gone, Math.ceil(Math.min(PURGE_KEYS, perSecond)));
    if (keys.length === 0) return false;
    await leadership.confirm({ type: 'purge', keys });
    await sleep(this.deps.clock, (keys.length / perSecond) * 1000);
    return true;
  }

  /** The url of `partition`'s leader; undefined while it has none. */
  private async leaderOf(partition: string): Promise<string | undefined> {
    const node = await this.session().getData(this.deps.paths.leader(partition));
    return node && parseLeader(node.data).url;
  }

  private session(): ZkClient {
    const session = this.deps.records.zk();
    if (!session || session.isClosed) throw unavailable('not connected to ZooKeeper');
    return session;
  }

  /** What earlier leaders of this partition recorded for `migration` (a new leader carries on from it). */
  private async lastProgress(migration: string): Promise<ProgressRecord | undefined> {
    if (this.progress?.migration === migration) return this.progress;
    const node = await this.session().getData(this.deps.paths.progressOf(this.deps.partition));
    const recorded = node && parseProgress(node.data);
    return recorded?.migration === migration ? recorded : undefined;
  }

  private async record(migration: string, slots: number, keys: number, bytes: number, pauseMs: number): Promise<void> {
    const now = this.deps.clock.now();
    const last = await this.lastProgress(migration);
    this.progress = {
      migration,
      slotsMoved: (last?.slotsMoved ?? 0) + slots,
      keysMoved: (last?.keysMoved ?? 0) + keys,
      bytesMoved: (last?.bytesMoved ?? 0) + bytes,
      pauseMsMax: Math.max(last?.pauseMsMax ?? 0, pauseMs),
      pauseMsTotal: (last?.pauseMsTotal ?? 0) + pauseMs,
      pauses: (last?.pauses ?? 0) + 1,
      updatedAt: now,
    };
    await this.writeProgress();
  }

  private async setBlocked(reason: string | undefined): Promise<void> {
    this.blocked = reason;
    const migration = this.deps.records.currentMigration;
    if (!isActive(migration)) return;
    this.progress = await this.lastProgress(migration.id);
    if (!this.progress) {
      this.progress = { migration: migration.id, slotsMoved: 0, keysMoved: 0, bytesMoved: 0, pauseMsMax: 0, pauseMsTotal: 0, pauses: 0, updatedAt: this.deps.clock.now() };
    }
    if (reason === undefined) delete this.progress.blocked;
    else this.progress.blocked = reason;
    await this.writeProgress();
  }

  private async writeProgress(): Promise<void> {
    const session = this.session();
    const path = this.deps.paths.progressOf(this.deps.partition);
    const data = encodeRecord(this.progress!);
    try {
      await session.setData(path, data, -1);
    } catch (error) {
      if (!(error instanceof ZkError) || error.code !== 'NO_NODE') throw error;
      await session.mkdirp(this.deps.paths.progress);
      await session.create(path, data, 'persistent').catch(() => undefined);
    }
  }
}
