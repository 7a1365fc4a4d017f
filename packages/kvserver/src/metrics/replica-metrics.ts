import { statSync, statfsSync } from 'node:fs';
import { Counter, FastHistogram, Gauge, Histogram, ZkSessionMetrics, createMetricsRegistry, type HistogramCell, type Registry } from '@kvstore/cluster';
import { CLIENT_MUX_PATH, MUX_PATH } from '@kvstore/wire';
import { slotsLeaving } from '../migration/plan';
import type { MovedBatch } from '../migration/slot-mover';
import type { KvStore } from '../replication/kv-store';
import type { ReplicationLog } from '../replication/log';
import type { Replica, ReplicaRole } from '../replication/replica';
import type { IsrChange, ReplicationObserver } from '../replication/types';
import type { RoutingRecords } from '../zk/routing-records';

/** Where a replica's state is read from when scraped. */
export interface ReplicaMetricsSources {
  partition: string;
  id: string;
  /** Read only when scraped: the replica reports to these metrics, so they are made first. */
  replica: () => Replica;
  log: ReplicationLog;
  store: KvStore;
  minInsync: number;
  /** The slot table and migration as last read (for what is left to move). */
  records: () => Pick<RoutingRecords, 'currentRing' | 'currentMigration'>;
  /** The LMDB file and the data dir, with --data-dir. */
  disk?: { file: string; dir: string };
  /** Open binary-protocol connections by door path (read when scraped, once the port is open). */
  muxConnections?: () => Map<string, number>;
}

/** The doors' names in the metric: who came in through them. */
const DOORS: Readonly<Record<string, string>> = { [MUX_PATH]: 'peers', [CLIENT_MUX_PATH]: 'clients' };

const ROLES: readonly ReplicaRole[] = ['leader', 'follower', 'stopped'];
/** From 0.25 ms (a write to memory without followers) to 10 s (past any write timeout). */
const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const PAUSE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A replica's metrics, in a registry of its own whose every series carries
 * `partition` and `replica`. State (role, sequence numbers, lag, keys,
 * disk) is read when scraped; events come from the core's observer, the
 * write path's timings, the storage engine's commits and the slot mover.
 */
export class ReplicaMetrics {
  readonly registry: Registry;
  readonly zooKeeper: ZkSessionMetrics;
  /** What the replication core reports (epochs, snapshots, expiry). */
  readonly observer: ReplicationObserver;
  /** On the data path: plain cells (FastHistogram), not prom-client's per-call label hashing. */
  private readonly writeCommit: HistogramCell;
  private readonly strongRead: HistogramCell;
  private readonly fsync: Histogram;
  private readonly fsyncBatch: Histogram;
  private readonly isrChanges: Counter<'change'>;
  private readonly migrationSlots: Counter<'migration' | 'to'>;
  private readonly migrationKeys: Counter<'migration' | 'to'>;
  private readonly migrationBytes: Counter<'migration' | 'to'>;
  private readonly migrationPause: Histogram;
  private readonly copyRate: Gauge;

  constructor(sources: ReplicaMetricsSources) {
    const registry = createMetricsRegistry();
    registry.setDefaultLabels({ partition: sources.partition, replica: sources.id });
    this.registry = registry;
    const registers = [registry];
    const { replica, log, store } = sources;
    const leaving = (): number[] => {
      const { currentRing, currentMigration } = sources.records();
      return currentRing ? slotsLeaving(currentRing, currentMigration, sources.partition) : [];
    };

    new Gauge({
      name: 'kvstore_replica_role',
      help: 'This replica\'s role: 1 for the current one (leader, follower, stopped), 0 for the others',
      labelNames: ['role'],
      registers,
      collect() {
        for (const role of ROLES) this.set({ role }, replica().role === role ? 1 : 0);
      },
    });
    scrapedGauge(registry, 'kvstore_replica_epoch', 'The newest leadership epoch this replica has seen', () => replica().epoch);
    const leaderChanges = new Counter({ name: 'kvstore_replica_leader_changes_total', help: 'Newer epochs (new leaders\' terms) this replica has seen', registers });
    const snapshotsSent = new Counter({ name: 'kvstore_replica_snapshots_sent_total', help: 'Snapshots this replica served as leader (to a follower catching up, or to a backup)', registers });
    const snapshotsInstalled = new Counter({ name: 'kvstore_replica_snapshots_installed_total', help: 'Snapshots from the leader installed here', registers });
    const expirySweeps = new Counter({ name: 'kvstore_replica_expiry_sweeps_total', help: 'Looks, as leader, for values whose TTL has run out', registers });
    const expired = new Counter({ name: 'kvstore_replica_expired_keys_total', help: 'Values expired through the log by those looks', registers });
    const strongReads = new Counter({
      name: 'kvstore_replica_strong_reads_total',
      help: 'Strong reads this leader answered: on its read lease, or after a round to the in-sync set',
      labelNames: ['path'],
      registers,
    });
    const onLease = strongReads.labels('lease');
    const afterRound = strongReads.labels('round');
    this.observer = {
      epochChanged: () => leaderChanges.inc(),
      snapshotServed: () => snapshotsSent.inc(),
      snapshotInstalled: () => snapshotsInstalled.inc(),
      expirySweep: (count) => {
        expirySweeps.inc();
        if (count > 0) expired.inc(count);
      },
      strongRead: (path) => (path === 'lease' ? onLease : afterRound).inc(),
    };

    scrapedGauge(registry, 'kvstore_replica_last_seq', 'Sequence number of the last entry in this replica\'s log', () => log.lastSeq);
    scrapedGauge(registry, 'kvstore_replica_commit_seq', 'Sequence number of the last committed entry this replica knows of', () => replica().status().commitSeq);
    scrapedGauge(registry, 'kvstore_replica_applied_seq', 'Sequence number of the last entry applied to the state', () => store.appliedSeq);
    scrapedGauge(registry, 'kvstore_replica_durable_seq', 'Log entries up to here are on disk (or, in memory, appended)', () => log.durableSeq);
    scrapedGauge(registry, 'kvstore_replica_log_entries', 'Entries in the log (between its base and its end)', () => log.lastSeq - log.baseSeq);
    scrapedGauge(registry, 'kvstore_replica_log_base_seq', 'The last entry folded away by compaction or a snapshot', () => log.baseSeq);
    scrapedGauge(registry, 'kvstore_replica_log_bytes', 'About how many bytes the log\'s entries hold', () => log.bytes);
    scrapedGauge(registry, 'kvstore_replica_keys', 'Keys in the state (values whose TTL ran out but not yet expired included)', () => store.size);
    scrapedGauge(registry, 'kvstore_replica_min_insync', 'The --min-insync setting: writes are refused while the in-sync set is smaller', () => sources.minInsync);

    const { muxConnections } = sources;
    new Gauge({
      name: 'kvstore_replica_mux_connections',
      help: 'Open binary-protocol connections to this replica: from peers (gates, the leader) and from self-routing clients',
      labelNames: ['door'],
      registers,
      collect() {
        this.reset();
        const open = muxConnections?.() ?? new Map<string, number>();
        for (const [path, door] of Object.entries(DOORS)) this.set({ door }, open.get(path) ?? 0);
      },
    });
    new Gauge({
      name: 'kvstore_replica_in_sync_replicas',
      help: 'Size of the in-sync set, leader included (reported by the leader only)',
      registers,
      collect() {
        this.reset();
        const leadership = replica().currentLeadership;
        if (leadership) this.set(leadership.inSyncSet.length);
      },
    });
    const lagEntries = new Gauge({
      name: 'kvstore_replica_follower_lag_entries',
      help: 'Log entries each follower lacks (reported by the leader)',
      labelNames: ['follower'],
      registers,
    });
    new Gauge({
      name: 'kvstore_replica_follower_lag_seconds',
      help: 'How long each follower has not held the leader\'s whole log; 0 while it does (reported by the leader)',
      labelNames: ['follower'],
      registers,
      collect() {
        this.reset();
        lagEntries.reset();
        for (const { id, entries, seconds } of replica().currentLeadership?.followerLag() ?? []) {
          this.set({ follower: id }, seconds);
          lagEntries.set({ follower: id }, entries);
        }
      },
    });
    this.isrChanges = new Counter({
      name: 'kvstore_replica_isr_changes_total',
      help: 'Changes this leader stored to the in-sync set: shrink (a follower removed) or grow (one added)',
      labelNames: ['change'],
      registers,
    });

    this.writeCommit = new FastHistogram({
      name: 'kvstore_replica_write_commit_seconds',
      help: 'Time from a write\'s arrival at the leader to its acknowledgement (committed in sync mode)',
      buckets: LATENCY_BUCKETS,
      registers,
    }).cell();
    this.strongRead = new FastHistogram({
      name: 'kvstore_replica_strong_read_seconds',
      help: 'Time a strong read took at the leader: next to nothing on its read lease, else mostly one round to the in-sync set',
      buckets: LATENCY_BUCKETS,
      registers,
    }).cell();
    this.fsync = new Histogram({
      name: 'kvstore_storage_fsync_seconds',
      help: 'Time from a group of writes\' first write to the group being durable (one LMDB transaction and its fsync)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fsyncBatch = new Histogram({
      name: 'kvstore_storage_fsync_batch_writes',
      help: 'Writes (log, state and meta records) made durable by one group commit',
      buckets: BATCH_BUCKETS,
      registers,
    });
    if (sources.disk) diskGauges(registry, sources.disk);

    const migrationLabels = ['migration', 'to'] as const;
    this.migrationSlots = new Counter({ name: 'kvstore_migration_slots_moved_total', help: 'Slots this partition handed over, by migration and destination', labelNames: migrationLabels, registers });
    this.migrationKeys = new Counter({ name: 'kvstore_migration_keys_moved_total', help: 'Keys this partition copied away, by migration and destination', labelNames: migrationLabels, registers });
    this.migrationBytes = new Counter({ name: 'kvstore_migration_bytes_moved_total', help: 'Bytes of keys and values this partition copied away, by migration and destination', labelNames: migrationLabels, registers });
    this.migrationPause = new Histogram({
      name: 'kvstore_migration_pause_seconds',
      help: 'How long each batch of moving slots refused writes (from its fence to its new owner in /ring)',
      buckets: PAUSE_BUCKETS,
      registers,
    });
    this.copyRate = new Gauge({ name: 'kvstore_migration_copy_keys_per_second', help: 'Keys per second of the last batch\'s copy', registers });
    new Gauge({
      name: 'kvstore_migration_slots_to_move',
      help: 'Slots this partition still owns that the running migration sends elsewhere (0 without one)',
      registers,
      collect() {
        this.set(leaving().length);
      },
    });
    new Gauge({
      name: 'kvstore_migration_keys_to_move',
      help: 'Keys in the slots this partition has still to move',
      registers,
      collect() {
        this.set(leaving().reduce((keys, slot) => keys + store.keysInSlot(slot), 0));
      },
    });

    this.zooKeeper = new ZkSessionMetrics(registry);
  }

  /** A write answered after `seconds` at this leader. */
  writeAcknowledged(seconds: number): void {
    this.writeCommit.observe(seconds);
  }

  strongReadAnswered(seconds: number): void {
    this.strongRead.observe(seconds);
  }

  /** One group commit of the storage engine. */
  durableBatch(writes: number, seconds: number): void {
    this.fsyncBatch.observe(writes);
    this.fsync.observe(seconds);
  }

  isrChanged(change: IsrChange): void {
    this.isrChanges.inc({ change: 'add' in change ? 'grow' : 'shrink' });
  }

  batchMoved(batch: MovedBatch): void {
    const labels = { migration: batch.migration, to: batch.to };
    this.migrationSlots.inc(labels, batch.slots);
    this.migrationKeys.inc(labels, batch.keys);
    this.migrationBytes.inc(labels, batch.bytes);
    this.migrationPause.observe(batch.pauseMs / 1000);
    if (batch.copyMs > 0) this.copyRate.set((batch.keys / batch.copyMs) * 1000);
  }
}

function scrapedGauge(registry: Registry, name: string, help: string, value: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(value());
    },
  });
}

/** The LMDB file's size, and the size and free space of the file system holding the data dir (for a disk-full alert). */
function diskGauges(registry: Registry, disk: { file: string; dir: string }): void {
  scrapedGauge(registry, 'kvstore_storage_disk_bytes', 'Size of this replica\'s LMDB file', () => statSync(disk.file, { throwIfNoEntry: false })?.size ?? 0);
  scrapedGauge(registry, 'kvstore_storage_filesystem_free_bytes', 'Bytes free to this process on the data dir\'s file system', () => {
    const stats = statfsSync(disk.dir);
    return stats.bavail * stats.bsize;
  });
  scrapedGauge(registry, 'kvstore_storage_filesystem_size_bytes', 'Size of the data dir\'s file system', () => {
    const stats = statfsSync(disk.dir);
    return stats.blocks * stats.bsize;
  });
}
