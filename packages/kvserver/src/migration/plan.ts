import { SLOT_COUNT, ringRecord, type MigrationRecord, type Ring, type RingRecord, isMigrationActive } from '@kvstore/protocol';

/**
 * The decisions of a source partition's leader during a migration, as pure
 * functions of the slot table (`/ring`), the migration record and the
 * leader's fenced slots. The I/O around them is SlotMover.
 */

export function isActive(migration: MigrationRecord | undefined): migration is MigrationRecord {
  return migration !== undefined && isMigrationActive(migration.state);
}

export function targetOf(migration: MigrationRecord, slot: number): string {
  return migration.names[migration.target[slot]!]!;
}

/** Slots this partition still owns that the migration sends elsewhere: what it has left to move. */
export function slotsLeaving(ring: Ring, migration: MigrationRecord | undefined, self: string): number[] {
  if (!isActive(migration)) return [];
  const leaving: number[] = [];
  for (let slot = 0; slot < SLOT_COUNT; slot++) if (ring.ownerOfSlot(slot) === self && targetOf(migration, slot) !== self) leaving.push(slot);
  return leaving;
}

/**
 * Slots this partition fenced but still owns, and that are not leaving any
 * more (an abort, or a migration that ended): it serves them again.
 */
export function slotsToUnfence(ring: Ring, migration: MigrationRecord | undefined, self: string, fenced: ReadonlySet<number>): number[] {
  const active = isActive(migration);
  return [...fenced].filter((slot) => ring.ownerOfSlot(slot) === self && (!active || targetOf(migration, slot) === self)).sort((a, b) => a - b);
}

export interface Batch {
  to: string;
  slots: number[];
}

/**
 * The next slots this partition sends away, all to one destination not in
 * `waiting` (those without a leader): the ones already fenced first (a
 * batch a previous leader began), then slots in order until about
 * `maxKeys` keys. Undefined when none are left.
 */
export function nextBatch(
  ring: Ring,
  migration: MigrationRecord,
  self: string,
  fenced: ReadonlySet<number>,
  keysInSlot: (slot: number) => number,
  maxKeys: number,
  waiting: ReadonlySet<string> = new Set(),
): Batch | undefined {
  const leaving: number[] = [];
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const target = targetOf(migration, slot);
    if (ring.ownerOfSlot(slot) === self && target !== self && !waiting.has(target)) leaving.push(slot);
  }
  if (leaving.length === 0) return undefined;
  const resumed = leaving.find((slot) => fenced.has(slot));
  const to = targetOf(migration, resumed ?? leaving[0]!);
  const slots: number[] = [];
  let keys = 0;
  for (const slot of leaving) {
    if (targetOf(migration, slot) !== to) continue;
    if (resumed !== undefined ? !fenced.has(slot) : fenced.has(slot)) continue;
    const count = keysInSlot(slot);
    if (slots.length > 0 && keys + count > maxKeys) break;
    slots.push(slot);
    keys += count;
  }
  return { to, slots };
}

/** The slot table with `slots` given to `to`, which holds them from `since` in its log. */
export function flipSlots(ring: Ring, slots: readonly number[], to: string, since: number): RingRecord {
  const owners = [...ring.slotOwners()];
  const sinceMap = { ...ring.record.since };
  for (const slot of slots) {
    owners[slot] = to;
    sinceMap[slot] = since;
  }
  return ringRecord(ring.version + 1, owners, { extra: ring.partitions, since: sinceMap, sealed: ring.sealed });
}

/** Every slot is where the migration sends it. */
export function reachedTarget(ring: Ring, migration: MigrationRecord): boolean {
  for (let slot = 0; slot < SLOT_COUNT; slot++) if (ring.ownerOfSlot(slot) !== targetOf(migration, slot)) return false;
  return true;
}

/** The table once a migration ends: partitions that own no slot and are not a target leave the ring. */
export function settledRing(ring: Ring, migration: MigrationRecord): RingRecord | undefined {
  const keep = new Set(migration.target.map((index) => migration.names[index]!));
  const owners = ring.slotOwners();
  for (const owner of owners) keep.add(owner);
  if (ring.partitions.every((name) => keep.has(name))) return undefined;
  return ringRecord(ring.version + 1, owners, { extra: [...keep], since: ring.record.since ?? {}, sealed: ring.sealed });
}
