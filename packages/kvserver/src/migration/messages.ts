import type { ErrorCode } from '@kvstore/protocol';
import type { SnapshotRecord } from '../replication/kv-store';

/** Source leader → destination leader: one chunk of a slot batch's data (the first chunk clears the slots). */
export interface ImportRequest {
  migration: string;
  /** The source partition, and its leader's epoch: the destination checks both in ZooKeeper. */
  from: string;
  fromEpoch: number;
  slots: number[];
  clear: boolean;
  /** Every version the source ever gave is at most this: the destination's later versions start above it. */
  versionFloor: number;
  records: SnapshotRecord[];
}

/** `seq`: where the chunk is in the destination's log, committed. */
export type ImportResponse = { ok: true; seq: number } | { ok: false; code: ErrorCode; message: string };

/** The way to the destination's leader (the internal protocol in the program; a twin in tests). */
export interface SlotTransport {
  importSlots(url: string, request: ImportRequest, timeoutMs: number): Promise<ImportResponse>;
}
