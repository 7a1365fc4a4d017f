import { MAX_KEY_BYTES } from '@kvstore/protocol';
import { MUX_FRAME_HEADROOM } from '@kvstore/wire';
import type { ReplicationOptions } from '../replication/types';

/**
 * The longest internal-protocol frame a replica accepts, either way: one
 * value (a gate's kv request, or an append carrying a single entry larger
 * than a batch), or an append batch. A batch is cut at maxBatchBytes by the
 * log's size estimate, which counts a key in UTF-16 units: a key's UTF-8
 * bytes can exceed that by up to MAX_KEY_BYTES, once per entry.
 */
export function replicaFrameLimit(maxValueBytes: number, options: Pick<ReplicationOptions, 'maxBatchBytes' | 'maxBatchEntries'>): number {
  return Math.max(options.maxBatchBytes, maxValueBytes) + options.maxBatchEntries * MAX_KEY_BYTES + MUX_FRAME_HEADROOM;
}
