import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Response } from 'express';
import type { SnapshotSource, SnapshotStream } from '../replication/messages';
import type { SnapshotRecord } from '../replication/kv-store';

/**
 * Snapshots travel as NDJSON: a header line `{seq, epoch}`, one line per
 * record, and a trailer `{end: count}` so a cut-off stream is told from a
 * complete one. Neither side holds the whole snapshot in memory.
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
  response.write(`${JSON.stringify({ ...extra, seq: snapshot.seq, epoch: snapshot.epoch })}\n`);
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
  const header = JSON.parse(first.value) as { seq: number; epoch: number };
  async function* chunks(): AsyncGenerator<SnapshotRecord[]> {
    let chunk: SnapshotRecord[] = [];
    let count = 0;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const parsed = JSON.parse(next.value);
      if (typeof parsed.end === 'number') {
        if (parsed.end !== count) throw new Error(`snapshot stream has ${count} records, its trailer says ${parsed.end}`);
        if (chunk.length > 0) yield chunk;
        return;
      }
      chunk.push({ key: parsed.key, value: Buffer.from(parsed.value, 'base64'), version: parsed.version, expiresAt: parsed.expiresAt });
      count++;
      if (chunk.length >= SNAPSHOT_CHUNK_RECORDS) {
        yield chunk;
        chunk = [];
      }
    }
    throw new Error(`snapshot stream ended early, after ${count} records`);
  }
  return { seq: header.seq, epoch: header.epoch, chunks: chunks() };
}
