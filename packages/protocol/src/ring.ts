import type { RingRecord } from './records';
import { SLOT_COUNT, placeSlots, slotOf } from './slots';

/**
 * The routing table: the slot table of a `/ring` record, as a pure object.
 * Every gate and server builds it from the same record, so all of them
 * route every key the same way. A record without a slot table (an empty
 * ring, or one of an older version) means the placement of its partitions.
 */
export class Ring {
  readonly version: number;
  readonly partitions: readonly string[];
  /** The record this table was built from (to build the next one from). */
  readonly record: RingRecord;
  /** Once sealed, partitions join and leave only by moving slots with their data. */
  readonly sealed: boolean;
  private readonly owners: readonly string[];
  private readonly since: Readonly<Record<string, number>>;

  constructor(record: RingRecord) {
    this.record = record;
    this.version = record.version;
    this.partitions = [...new Set(record.partitions)];
    this.sealed = record.sealed === true;
    this.owners = record.owners ? record.owners.map((index) => record.partitions[index]!) : placeSlots(this.partitions);
    this.since = record.since ?? {};
  }

  /** The partition that owns `key`; undefined only for an empty ring. */
  ownerOf(key: string): string | undefined {
    return this.owners[slotOf(key)];
  }

  ownerOfSlot(slot: number): string | undefined {
    return this.owners[slot];
  }

  /** The owner's log position from which it holds a slot that moved to it (0: it always had it). */
  sinceOf(slot: number): number {
    return this.since[slot] ?? 0;
  }

  /** Every slot's owner, by slot number. */
  slotOwners(): readonly string[] {
    return this.owners;
  }

  /** Slots owned by each partition (partitions on the ring that own none count 0). */
  slotCounts(): Map<string, number> {
    const counts = new Map(this.partitions.map((name) => [name, 0]));
    for (const owner of this.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return counts;
  }

  has(partition: string): boolean {
    return this.partitions.includes(partition);
  }
}

/**
 * A `/ring` record for `owners` (one partition name per slot): `partitions`
 * lists every owner and any `extra` partition (one gaining slots, say).
 */
export function ringRecord(
  version: number,
  owners: readonly string[],
  options: { extra?: readonly string[]; since?: Record<string, number>; sealed?: boolean } = {},
): RingRecord {
  if (owners.length !== SLOT_COUNT) throw new Error(`a slot table has ${SLOT_COUNT} owners, not ${owners.length}`);
  const partitions = [...new Set([...owners, ...(options.extra ?? [])])].sort();
  const index = new Map(partitions.map((name, position) => [name, position]));
  const record: RingRecord = { version, partitions, owners: owners.map((name) => index.get(name)!) };
  if (options.since && Object.keys(options.since).length > 0) record.since = options.since;
  if (options.sealed) record.sealed = true;
  return record;
}
