import HashRing from 'hashring';
import type { RingRecord } from './records';

/**
 * The ring of partitions: a pure object, members in, owner out. Every gate
 * and server builds it from the same `/ring` record with the same hash, so
 * all of them route every key the same way.
 */
export class Ring {
  readonly version: number;
  readonly partitions: readonly string[];
  private readonly hashRing: HashRing;

  constructor(record: RingRecord) {
    this.version = record.version;
    // Sorted so that the order partitions were added in cannot matter.
    this.partitions = [...new Set(record.partitions)].sort();
    this.hashRing = new HashRing([...this.partitions], 'md5', { 'max cache size': 10_000 });
  }

  /** The partition that owns `key`; undefined only for an empty ring. */
  ownerOf(key: string): string | undefined {
    if (this.partitions.length === 0) return undefined;
    return this.hashRing.get(key);
  }

  has(partition: string): boolean {
    return this.partitions.includes(partition);
  }
}
