/**
 * The backup file: NDJSON, written by `kvctl backup`, read by `kvctl restore`.
 *
 *   {"partition":"p0","seq":1520,"epoch":2,"records":        1498}   one header per partition
 *   {"key":"k","value":"<base64>","version":17,"expiresAt":null}     then exactly that many records
 *   ...
 *   {"kvstore":"backup","format":1,"partitions":2,"records":2990,"createdAt":"..."}   last line
 *
 * The count in a header is written as blanks first and filled in once the
 * partition's stream ended with its trailer (JSON allows the blanks), so the
 * file is written in one pass. `expiresAt` is absolute, in milliseconds
 * since the epoch. Every partition's records are its leader's state at that
 * header's `seq`.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ndjsonLines } from '@kvstore/kvclient';
import { KvError, validateKey } from '@kvstore/protocol';
import { BackupFileError } from './failures';

const BACKUP_FORMAT = 1;
/** Room for the record count of a partition header: up to 15 digits. */
const COUNT_WIDTH = 15;

export interface PartitionHeader {
  partition: string;
  seq: number;
  epoch: number;
  records: number;
}

export interface BackupRecord {
  key: string;
  /** base64, as in the file. */
  value: string;
  version: number;
  expiresAt: number | null;
}

export interface BackupSummary {
  kvstore: 'backup';
  format: number;
  partitions: number;
  records: number;
  createdAt: string;
}

/** What `validateBackup` found: a file `restore` may use. */
export interface BackupContents {
  partitions: PartitionHeader[];
  records: number;
  summary: BackupSummary;
}

/** Buffered writes to a file handle at known offsets, so that a header's count can be filled in later. */
export class BackupWriter {
  private offset = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly handle: FileHandle) {}

  /** Writes a partition header with a blank count; resolve it with `setCount`. */
  async beginPartition(header: Omit<PartitionHeader, 'records'>): Promise<number> {
    const prefix = `{"partition":${JSON.stringify(header.partition)},"seq":${header.seq},"epoch":${header.epoch},"records":`;
    const countAt = this.offset + this.pendingBytes + Buffer.byteLength(prefix);
    await this.write(`${prefix}${' '.repeat(COUNT_WIDTH)}}\n`);
    return countAt;
  }

  async record(record: { key: string; value: Buffer; version: number; expiresAt: number | null }): Promise<void> {
    const line: BackupRecord = { key: record.key, value: record.value.toString('base64'), version: record.version, expiresAt: record.expiresAt };
    await this.write(`${JSON.stringify(line)}\n`);
  }

  async setCount(countAt: number, count: number): Promise<void> {
    await this.flush();
    const text = String(count).padStart(COUNT_WIDTH);
    if (text.length !== COUNT_WIDTH) throw new Error(`record count ${count} does not fit its header`);
    await this.handle.write(text, countAt, 'utf8');
  }

  async summary(summary: Omit<BackupSummary, 'kvstore' | 'format'>): Promise<void> {
    const line: BackupSummary = { kvstore: 'backup', format: BACKUP_FORMAT, ...summary };
    await this.write(`${JSON.stringify(line)}\n`);
    await this.flush();
  }

  private async write(text: string): Promise<void> {
    const buffer = Buffer.from(text, 'utf8');
    this.pending.push(buffer);
    this.pendingBytes += buffer.length;
    if (this.pendingBytes >= 256 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffer = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.handle.write(buffer, written, buffer.length - written, this.offset + written);
      written += bytesWritten;
    }
    this.offset += buffer.length;
  }
}

/** A line of the file: a header, a record, or the summary. */
type Line = { kind: 'header'; header: PartitionHeader } | { kind: 'record'; record: BackupRecord } | { kind: 'summary'; summary: BackupSummary };

/**
 * Reads the whole file once and checks every line: its shape, each
 * partition's record count, the summary's totals, nothing after the summary.
 * Throws BackupFileError naming the first bad line.
 */
export async function validateBackup(file: string): Promise<BackupContents> {
  const partitions: PartitionHeader[] = [];
  const seen = new Set<string>();
  let current: PartitionHeader | undefined;
  let inPartition = 0;
  let records = 0;
  let summary: BackupSummary | undefined;
  let lineNumber = 0;
  const fail = (reason: string): never => {
    throw new BackupFileError(`${file} line ${lineNumber}: ${reason}`);
  };
  for await (const text of readLines(file)) {
    lineNumber++;
    if (summary) fail('a line after the summary line');
    const line = parseBackupLine(text, fail);
    if (line.kind === 'record') {
      if (!current) fail('a record before any partition header');
      if (inPartition >= current!.records) fail(`partition ${current!.partition} has more records than its header says (${current!.records})`);
      inPartition++;
      records++;
      continue;
    }
    if (current && inPartition !== current.records) {
      fail(`partition ${current.partition} has ${inPartition} records, its header says ${current.records}`);
    }
    if (line.kind === 'header') {
      if (seen.has(line.header.partition)) fail(`partition ${line.header.partition} appears twice`);
      seen.add(line.header.partition);
      partitions.push(line.header);
      current = line.header;
      inPartition = 0;
    } else {
      const found = line.summary;
      if (found.partitions !== partitions.length) fail(`the summary says ${found.partitions} partitions, the file has ${partitions.length}`);
      if (found.records !== records) fail(`the summary says ${found.records} records, the file has ${records}`);
      summary = found;
      current = undefined;
    }
  }
  if (!summary) {
    lineNumber++;
    fail(lineNumber === 1 ? 'the file is empty' : 'the file ends before its summary line (cut short?)');
  }
  return { partitions, records, summary: summary! };
}

/** The records of a file that `validateBackup` accepted, in file order. */
export async function* backupRecords(file: string): AsyncGenerator<BackupRecord> {
  const fail = (reason: string): never => {
    throw new BackupFileError(`${file}: ${reason} (did it change since it was checked?)`);
  };
  for await (const text of readLines(file)) {
    const line = parseBackupLine(text, fail);
    if (line.kind === 'record') yield line.record;
  }
}

function readLines(file: string): AsyncGenerator<string> {
  return ndjsonLines(createReadStream(file, { highWaterMark: 256 * 1024 }));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The API's own key check, so that restore refuses the file before writing a key the gates would refuse. */
function checkKey(key: string, fail: (reason: string) => never): void {
  try {
    validateKey(key);
  } catch (error) {
    if (error instanceof KvError) fail(error.message);
    throw error;
  }
}

function parseBackupLine(text: string, fail: (reason: string) => never): Line {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(text.trim() === '' ? 'an empty line' : 'not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('not a JSON object');
  const fields = parsed as Record<string, unknown>;
  const count = (name: string, minimum = 0): number => {
    const value = fields[name];
    if (!Number.isSafeInteger(value) || (value as number) < minimum) fail(`${name} must be a whole number >= ${minimum}`);
    return value as number;
  };
  if ('key' in fields) {
    const { key, value, expiresAt } = fields;
    if (typeof key !== 'string') return fail('key must be a string');
    checkKey(key, fail);
    if (typeof value !== 'string' || !BASE64.test(value)) fail('value must be a base64 string');
    const version = count('version', 1);
    if (!(expiresAt === null || (Number.isSafeInteger(expiresAt) && (expiresAt as number) >= 0))) {
      fail('expiresAt must be null or milliseconds since the epoch');
    }
    return { kind: 'record', record: { key, value: value as string, version, expiresAt: expiresAt as number | null } };
  }
  if ('partition' in fields) {
    const { partition } = fields;
    if (typeof partition !== 'string' || partition.length === 0) return fail('partition must be a non-empty string');
    return { kind: 'header', header: { partition, seq: count('seq'), epoch: count('epoch'), records: count('records') } };
  }
  if (fields.kvstore === 'backup') {
    if (fields.format !== BACKUP_FORMAT) fail(`format ${JSON.stringify(fields.format)} is not one this kvctl reads (${BACKUP_FORMAT})`);
    const createdAt = typeof fields.createdAt === 'string' ? fields.createdAt : '';
    return { kind: 'summary', summary: { kvstore: 'backup', format: BACKUP_FORMAT, partitions: count('partitions'), records: count('records'), createdAt } };
  }
  return fail('neither a partition header, a record, nor the summary line (is this a kvctl backup?)');
}
