import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Response } from 'express';
import type { Snapshot } from '../replication/messages';
import type { SnapshotRecord } from '../store/kv-store';

/**
 * Snapshots travel as NDJSON: a header line `{seq, epoch, count}`, then one
 * line per record, so neither side builds one giant JSON document.
 */
export function writeSnapshot(response: Response, snapshot: Snapshot): void {
  response.type('application/x-ndjson');
  response.write(`${JSON.stringify({ seq: snapshot.seq, epoch: snapshot.epoch, count: snapshot.records.length })}\n`);
  const records = snapshot.records;
  let index = 0;
  const pump = (): void => {
    while (index < records.length) {
      const { key, value, version, expiresAt } = records[index++]!;
      const line = `${JSON.stringify({ key, value: value.toString('base64'), version, expiresAt })}\n`;
      if (!response.write(line)) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

export async function readSnapshot(body: Readable): Promise<Snapshot> {
  const lines = createInterface({ input: body, crlfDelay: Infinity });
  let header: { seq: number; epoch: number; count: number } | undefined;
  const records: SnapshotRecord[] = [];
  for await (const line of lines) {
    if (line.length === 0) continue;
    const parsed = JSON.parse(line);
    if (!header) {
      header = parsed;
      continue;
    }
    records.push({ key: parsed.key, value: Buffer.from(parsed.value, 'base64'), version: parsed.version, expiresAt: parsed.expiresAt });
  }
  if (!header || records.length !== header.count) throw new Error(`snapshot stream ended early (${records.length} of ${header?.count} records)`);
  return { seq: header.seq, epoch: header.epoch, records };
}
