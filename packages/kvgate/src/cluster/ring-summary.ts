import { Ring, isMigrationActive, migrationView, type ClusterView, type MigrationView, type RingRecord } from '@kvstore/protocol';
import type { MigrationRecords } from '../routing/snapshot';

/** What `/v1/cluster` shows of the ring (slots per partition included) and of the migration. */
export interface RingSummary {
  ring: ClusterView['ring'];
  migration: MigrationView | null;
}

/** How long the view of a running migration is reused: only its rate and ETA move with the clock. */
const ACTIVE_VIEW_MS = 1000;

/** `leads(p)`: whether partition `p` has a leader now (see migrationView). */
export function summarize(record: RingRecord | undefined, records: MigrationRecords, now: number, leads: (partition: string) => boolean = () => true): RingSummary {
  const ring = new Ring(record ?? { version: 0, partitions: [] });
  const migration = records.migration ? migrationView(records.migration, ring, records.progress, now, leads) : null;
  return {
    ring: { version: ring.version, partitions: [...ring.record.partitions], slots: Object.fromEntries(ring.slotCounts()), sealed: ring.sealed },
    migration,
  };
}

/**
 * The summary, computed again only when the ring or the migration's
 * records changed (they are new objects then), or once a second while a
 * migration runs.
 */
export class RingSummaries {
  private last: { ring: RingRecord | undefined; records: MigrationRecords; at: number; summary: RingSummary } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  summary(ring: RingRecord | undefined, records: MigrationRecords, leads?: (partition: string) => boolean): RingSummary {
    const now = this.now();
    const last = this.last;
    const state = last?.summary.migration?.state;
    const moving = isMigrationActive(state);
    if (last && last.ring === ring && last.records === records && !(moving && now - last.at >= ACTIVE_VIEW_MS)) return last.summary;
    const summary = summarize(ring, records, now, leads);
    this.last = { ring, records, at: now, summary };
    return summary;
  }
}
