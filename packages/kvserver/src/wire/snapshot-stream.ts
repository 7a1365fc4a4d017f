import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Response } from 'express';
import type { SnapshotSource, SnapshotStream } from '../replication/messages';
import type { SnapshotRecord } from '../replication/kv-store';
import { slotStateFromJson, slotStateToJson } from '../store/slot-state';

/**
 * Snapshots travel as NDJSON: a header line `{seq, epoch, slots: {fenced,
 * versionOffset}}`, one line per record, and a trailer `{end: count}` so a
 * cut-off stream is told from a complete one. Neither side holds the whole
 * snapshot in memory. A header without `slots` (written before resharding)
 * means no fenced slot and offset 0.
 */
const SNAPSHOT_CHUNK_RECORDS = 1000;

/** `extra` adds fields to the header line (e.g. `partition`); readers ignore fields they do not know. */
export function writeSnapshot(response: Response, snapshot: SnapshotSource, extra: Record<string, unknown> = {}): void {
  const records = snapshot.records[Symbol.iterator]();
  let count = 0;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    snapshot.close();
  };
  response.on('close', close);
  response.type('application/x-ndjson');
  response.write(`${JSON.stringify({ ...extra, seq: snapshot.seq, epoch: snapshot.epoch, slots: slotStateToJson(snapshot.slots) })}\n`);
  const pump = (): void => {
    for (;;) {
      const next = records.next();
      if (next.done) break;
      const { key, value, version, expiresAt } = next.value;
      count++;
      const line = `${JSON.stringify({ key, value: value.toString('base64'), version, expiresAt })}\n`;
      if (!response.write(line)) {
        response.once('drain', pump);
        return;
      }
    }
    close();
    response.end(`${JSON.stringify({ end: count })}\n`);
  };
  pump();
}

export async function readSnapshot(body: Readable): Promise<SnapshotStream> {
  const lines = createInterface({ input: body, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('snapshot stream is empty');
  const header = parseObject(first.value, 'snapshot header');
  const { seq, epoch } = header;
  if (!isNatural(seq) || !isNatural(epoch)) throw new Error('snapshot header needs an integer seq and epoch');
  const slots = slotStateFromJson(header.slots, 'snapshot header');
  async function* chunks(): AsyncGenerator<SnapshotRecord[]> {
    let chunk: SnapshotRecord[] = [];
    let count = 0;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const parsed = parseObject(next.value, `snapshot record ${count + 1}`);
      if (parsed.end !== undefined) {
        if (parsed.end !== count) throw new Error(`snapshot stream has ${count} records, its trailer says ${String(parsed.end)}`);
        if (chunk.length > 0) yield chunk;
        return;
      }
      chunk.push(parseRecord(parsed, count + 1));
      count++;
      if (chunk.length >= SNAPSHOT_CHUNK_RECORDS) {
        yield chunk;
        chunk = [];
      }
    }
    throw new Error(`snapshot stream ended early, after ${count} records`);
  }
  return { seq, epoch, slots, chunks: chunks() };
}

type Fields = Record<string, unknown>;

function isNatural(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function parseObject(line: string, what: string): Fields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${what} is not a JSON object`);
  return parsed as Fields;
}

function parseRecord(fields: Fields, number: number): SnapshotRecord {
  const { key, value, version, expiresAt } = fields;
  if (typeof key !== 'string' || typeof value !== 'string' || !isNatural(version) || !(expiresAt === null || Number.isSafeInteger(expiresAt))) {
    throw new Error(`snapshot record ${number} needs a string key, a base64 value, an integer version and an integer or null expiresAt`);
  }
  const bytes = Buffer.from(value, 'base64');
  // Buffer.from skips what is not base64; only canonical text round-trips.
  if (bytes.toString('base64') !== value) throw new Error(`snapshot record ${number}: value is not canonical base64`);
  return { key, value: bytes, version, expiresAt: expiresAt as number | null };
}
