/**
 * Reading a partition snapshot as the gate streams it (NDJSON): a header
 * `{partition, seq, epoch, keys}`, one line per record `{key, value (base64),
 * version, expiresAt}`, and a trailer `{end: count}`. A stream without its
 * trailer, or whose count disagrees, was cut: the reader fails rather than
 * hand out a partial snapshot as a whole one.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { KvError } from '@kvstore/protocol';

export interface SnapshotRecord {
  key: string;
  value: Buffer;
  /** The key's version (the partition's sequence number of its last write). */
  version: number;
  /** Absolute expiry in milliseconds since the epoch, or null. */
  expiresAt: number | null;
}

export interface PartitionSnapshot {
  partition: string;
  /** The partition's sequence number the snapshot was taken at: every write up to it, none after. */
  seq: number;
  epoch: number;
  /** How many keys the leader held when it opened the snapshot (expired ones included): for progress only. */
  estimatedRecords: number | null;
  /** Who served it, from X-Kv-Replica. */
  replica: string | null;
  /**
   * The records, once each; throws (UNAVAILABLE) if the stream is cut. Read
   * it to the end, or call close() to give the stream up.
   */
  records: AsyncIterable<SnapshotRecord>;
  /** How many records have been read so far. */
  readonly count: number;
  close(): void;
}

export async function readPartitionSnapshot(stream: Readable, partition: string, replica: string | null): Promise<PartitionSnapshot> {
  const lines = ndjsonLines(stream)[Symbol.asyncIterator]();
  const cut = (what: string): KvError =>
    new KvError('UNAVAILABLE', `the snapshot stream of partition ${partition} was cut ${what}`);
  const close = (): void => {
    stream.destroy();
  };
  let header: Record<string, unknown>;
  try {
    const first = await lines.next();
    if (first.done) throw cut('before its header');
    header = parseLine(first.value, partition, 'header');
  } catch (error) {
    close();
    throw error instanceof KvError ? error : cut(`before its header (${(error as Error).message})`);
  }
  const { seq, epoch } = header;
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(epoch)) {
    close();
    throw new KvError('INTERNAL', `the snapshot header of partition ${partition} has no seq and epoch`);
  }
  let count = 0;
  async function* records(): AsyncGenerator<SnapshotRecord> {
    try {
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await lines.next();
        } catch (error) {
          throw cut(`after ${count} records (${(error as Error).message})`);
        }
        if (next.done) throw cut(`after ${count} records`);
        const line = parseLine(next.value, partition, 'record');
        if (typeof line.end === 'number') {
          if (line.end !== count) throw cut(`: ${count} records arrived, the trailer says ${line.end}`);
          return;
        }
        count++;
        yield toRecord(line, partition);
      }
    } finally {
      close();
    }
  }
  return {
    partition: typeof header.partition === 'string' ? header.partition : partition,
    seq: seq as number,
    epoch: epoch as number,
    estimatedRecords: Number.isSafeInteger(header.keys) ? (header.keys as number) : null,
    replica,
    records: records(),
    get count() {
      return count;
    },
    close,
  };
}

function parseLine(text: string, partition: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KvError('INTERNAL', `the snapshot stream of partition ${partition} has a ${what} line that is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function toRecord(line: Record<string, unknown>, partition: string): SnapshotRecord {
  const { key, value, version, expiresAt } = line;
  if (
    typeof key !== 'string' ||
    typeof value !== 'string' ||
    !Number.isSafeInteger(version) ||
    !(expiresAt === null || expiresAt === undefined || Number.isSafeInteger(expiresAt))
  ) {
    throw new KvError('INTERNAL', `the snapshot stream of partition ${partition} has a malformed record`);
  }
  return { key, value: Buffer.from(value, 'base64'), version: version as number, expiresAt: (expiresAt as number | null | undefined) ?? null };
}

/**
 * The lines of a stream of NDJSON, without their newlines. Unlike readline,
 * an error or a premature close of the stream is thrown, not taken for an end.
 */
export async function* ndjsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n', start)) {
      const line = pending.slice(start, newline);
      start = newline + 1;
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0) yield pending;
}
