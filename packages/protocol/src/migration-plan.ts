/**
 * Planning a migration of slots, and what it looks like while it runs: pure
 * functions of the ring, the `/migration` record and the progress records.
 * Where a slot should live is the placement (placeSlots) of the partitions
 * that are to own slots; the plan moves the difference between the slot
 * table and that placement.
 */

import type { MigrationView } from './api';
import { badRequest } from './errors';
import { isValidName } from './paths';
import { isMigrationActive, type MigrationRecord, type ProgressRecord, type RingRecord } from './records';
import { ringRecord, type Ring } from './ring';
import { placeSlots } from './slots';

export type MigrationRequest = { kind: 'add'; partition: string } | { kind: 'remove'; partition: string } | { kind: 'rebalance' };

export interface MigrationPlan {
  migration: MigrationRecord;
  /**
   * The `/ring` record to write with the migration: for an add, the current
   * table with the new partition listed (so gates and servers watch it
   * before any slot moves) at the next version; otherwise the current one.
   */
  ring: RingRecord;
}

export interface ForcedRemoval {
  /** The next `/ring` record: the partition's slots owned by the placement of the others, the partition off the list. */
  ring: RingRecord;
  /** Slots whose data stays behind on the removed partition. */
  slotsGivenUp: number;
}

/** The partitions that own at least one slot, sorted. */
function owningPartitions(ring: Ring): string[] {
  return [...ring.slotCounts()]
    .filter(([, count]) => count > 0)
    .map(([name]) => name)
    .sort();
}

function checkName(partition: string): void {
  if (!isValidName(partition)) {
    throw badRequest(`invalid partition name ${JSON.stringify(partition)}: 1 to 64 of [A-Za-z0-9_.-], starting with a letter or digit`);
  }
}

/** The partitions that are to own slots once the request is done. */
function partitionsAfter(ring: Ring, owners: readonly string[], request: MigrationRequest): string[] {
  if (request.kind === 'rebalance') return [...owners];
  const { partition } = request;
  checkName(partition);
  const slots = ring.slotCounts().get(partition) ?? 0;
  if (request.kind === 'add') {
    if (slots > 0) throw badRequest(`partition ${partition} is already on the ring: it owns ${slots} slots`);
    return [...owners, partition];
  }
  if (!ring.has(partition)) throw badRequest(`partition ${partition} is not on the ring`);
  if (slots === 0) throw badRequest(`partition ${partition} owns no slots: there is nothing to move off it (removing it with force takes it off the ring's list)`);
  const rest = owners.filter((name) => name !== partition);
  if (rest.length === 0) throw badRequest(`cannot remove ${partition}: it is the last partition that owns slots`);
  return rest;
}

/**
 * The migration that carries out `request` on `ring`, and the ring record
 * to write with it. Refuses (BAD_REQUEST) an invalid name, adding a
 * partition that owns slots, removing one that is not on the ring or owns
 * none, removing the last one, and a plan that would move nothing.
 */
export function planMigration(ring: Ring, request: MigrationRequest, id: string, now: number): MigrationPlan {
  const owners = owningPartitions(ring);
  if (owners.length === 0) throw badRequest('the ring has no partition yet: the first one joins when its replicas start, with nothing to move');
  const after = partitionsAfter(ring, owners, request);
  const names = [...new Set([...ring.partitions, ...after])].sort();
  const index = new Map(names.map((name, position) => [name, position]));
  const current = ring.slotOwners();
  const target = placeSlots(after).map((name) => index.get(name)!);
  const original = current.map((name) => index.get(name)!);
  if (target.every((goal, slot) => goal === original[slot])) {
    throw badRequest(`nothing to move: every slot is already where the placement of ${after.join(', ')} puts it`);
  }
  const migration: MigrationRecord = {
    id,
    kind: request.kind,
    partition: request.kind === 'rebalance' ? null : request.partition,
    state: 'running',
    startedAt: now,
    names,
    target,
    original,
  };
  const next =
    request.kind === 'add'
      ? ringRecord(ring.version + 1, current, { extra: [...ring.partitions, request.partition], since: ring.record.since, sealed: ring.sealed })
      : ring.record;
  return { migration, ring: next };
}

/**
 * Takes a partition that is dead for good off the ring without moving its
 * data: its slots go to the placement of the partitions that own slots,
 * starting empty there. Refuses (BAD_REQUEST) a partition not on the ring
 * and the last one that owns slots.
 */
export function forceRemove(ring: Ring, partition: string): ForcedRemoval {
  checkName(partition);
  if (!ring.has(partition)) throw badRequest(`partition ${partition} is not on the ring`);
  const rest = owningPartitions(ring).filter((name) => name !== partition);
  if (rest.length === 0) throw badRequest(`cannot remove ${partition}: it is the last partition that owns slots`);
  const placement = placeSlots(rest);
  // A `since` belongs to its owner's log: the new owner's says nothing of it.
  const since = { ...ring.record.since };
  let slotsGivenUp = 0;
  const owners = ring.slotOwners().map((owner, slot) => {
    if (owner !== partition) return owner;
    slotsGivenUp++;
    delete since[slot];
    return placement[slot]!;
  });
  const extra = ring.partitions.filter((name) => name !== partition);
  return { ring: ringRecord(ring.version + 1, owners, { extra, since, sealed: ring.sealed }), slotsGivenUp };
}

/**
 * The migration as `/v1/cluster` shows it. The slots counted are those
 * still out of place or moved by it: while it runs, every slot whose target
 * differs from where it started (moved: owned by its target now); while it
 * is aborted, the slots still to move back. Keys, bytes and pauses come
 * from the progress records of this migration (by source partition); the
 * ETA is by the rate of slots so far. `leads(p)` says whether partition `p`
 * has a leader: one without blocks every move to or from it, and a source
 * without one cannot say so in its progress record, so the view does.
 */
export function migrationView(
  record: MigrationRecord,
  ring: Ring,
  progress: ReadonlyMap<string, ProgressRecord>,
  now: number,
  leads: (partition: string) => boolean = () => true,
): MigrationView {
  const moving = new Set<string>();
  let slotsTotal = 0;
  let slotsMoved = 0;
  record.target.forEach((goal, slot) => {
    const inPlace = ring.ownerOfSlot(slot) === record.names[goal];
    if (inPlace && goal === record.original[slot]) return;
    slotsTotal++;
    if (inPlace) slotsMoved++;
    else moving.add(ring.ownerOfSlot(slot)!).add(record.names[goal]!);
  });
  const active = isMigrationActive(record.state);
  let keysMoved = 0;
  let bytesMoved = 0;
  let pauseMsMax = 0;
  let pauseMsTotal = 0;
  let pauses = 0;
  const blocked: MigrationView['blocked'] = [];
  for (const [partition, source] of [...progress].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (source.migration !== record.id) continue;
    keysMoved += source.keysMoved;
    bytesMoved += source.bytesMoved;
    pauseMsMax = Math.max(pauseMsMax, source.pauseMsMax);
    pauseMsTotal += source.pauseMsTotal;
    pauses += source.pauses;
    if (active && source.blocked !== undefined) blocked.push({ partition, reason: source.blocked });
  }
  for (const partition of active ? [...moving].sort() : []) {
    if (!leads(partition) && !blocked.some((entry) => entry.partition === partition)) {
      blocked.push({ partition, reason: `partition ${partition} has no leader: the moves to and from it wait` });
    }
  }
  const seconds = Math.max(0, (record.finishedAt ?? now) - record.startedAt) / 1000;
  const remaining = slotsTotal - slotsMoved;
  let etaSeconds: number | null = null;
  if (active && remaining === 0) etaSeconds = 0;
  else if (active && slotsMoved > 0 && seconds > 0) etaSeconds = Math.ceil(remaining / (slotsMoved / seconds));
  return {
    id: record.id,
    kind: record.kind,
    partition: record.partition,
    state: record.state,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt ?? null,
    slotsTotal,
    slotsMoved,
    keysMoved,
    bytesMoved,
    keysPerSecond: seconds > 0 ? Math.round(keysMoved / seconds) : 0,
    etaSeconds,
    pauseMsMax,
    pauseMsMean: pauses > 0 ? Math.round(pauseMsTotal / pauses) : 0,
    blocked,
  };
}
