/**
 * `backup <file>` and `restore <file>`: a partition-by-partition snapshot
 * through the gates into one NDJSON file (backup-file.ts), and the way back
 * as ordinary writes.
 */
import { open, rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { KvError, withRetries, type KvClient } from '@kvstore/kvclient';
import { isMigrationActive } from '@kvstore/protocol';
import { BackupWriter, backupRecords, validateBackup, type BackupRecord, type PartitionHeader } from './backup-file';
import type { CommandContext } from './context';
import { UsageError } from './failures';
import { positiveInteger } from './parsers';
import { createProgress } from './progress';
import { BACKUP, RESTORE } from './renderings';

export const DEFAULT_RESTORE_CONCURRENCY = 32;
/** Attempts per record on 503/504: writing the same value again is harmless, so restore may resend what a put would not. */
const RESTORE_ATTEMPTS = 4;

export function addBackupCommands(parent: Command, context: CommandContext): void {
  parent
    .command('backup')
    .summary("write every partition's snapshot to <file>")
    .description(
      "write every partition's snapshot to <file> (NDJSON); each partition is consistent at one sequence number of its own, not across partitions",
    )
    .argument('<file>')
    .action(async (file: string) => context.print(await backup(context, file), BACKUP));

  parent
    .command('restore')
    .summary('write a backup back through the gates (new versions)')
    .description(
      'write every record of a backup <file> through the gates; versions are NOT preserved (each key gets a new one), ' +
        'ttls keep their remaining whole seconds, records already expired are skipped. The file is checked in full before anything is written',
    )
    .argument('<file>')
    .option('--concurrency <n>', `writes in flight (default ${DEFAULT_RESTORE_CONCURRENCY})`, positiveInteger)
    .action(async (file: string, flags: { concurrency?: number }) => {
      context.print(await restore(context, file, flags.concurrency ?? DEFAULT_RESTORE_CONCURRENCY), RESTORE);
    });
}

export interface BackupResult {
  file: string;
  partitions: PartitionHeader[];
  records: number;
  seconds: number;
}

async function backup(context: CommandContext, file: string): Promise<BackupResult> {
  const started = Date.now();
  const client = context.client();
  const view = await client.cluster();
  // While slots move, a key can leave one partition after its snapshot and reach another before its own.
  if (view.migration && isMigrationActive(view.migration.state)) {
    throw new KvError('CONFLICT', `migration ${view.migration.id} is ${view.migration.state}: back up once it has ended (kvctl migration status --watch)`);
  }
  const names = view.ring.partitions;
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot write ${temporary}: ${error.code ?? error.message}`);
  });
  const progress = createProgress(context.io);
  const partitions: PartitionHeader[] = [];
  let records = 0;
  let renamed = false;
  try {
    const writer = new BackupWriter(handle);
    for (const [index, name] of names.entries()) {
      const label = `backup ${name} (${index + 1}/${names.length})`;
      const snapshot = await client.openSnapshot(name);
      try {
        const countAt = await writer.beginPartition({ partition: name, seq: snapshot.seq, epoch: snapshot.epoch });
        let count = 0;
        for await (const record of snapshot.records) {
          await writer.record(record);
          count++;
          progress.update(label, count, snapshot.estimatedRecords);
        }
        await writer.setCount(countAt, count);
        partitions.push({ partition: name, seq: snapshot.seq, epoch: snapshot.epoch, records: count });
        records += count;
      } finally {
        snapshot.close();
      }
    }
    await writer.summary({ partitions: partitions.length, records, createdAt: new Date().toISOString() });
    await handle.sync();
    await handle.close();
    await rename(temporary, file).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot rename ${temporary} to ${file}: ${error.code ?? error.message}`);
    });
    renamed = true;
  } finally {
    progress.finish();
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await rm(temporary, { force: true }).catch(() => undefined);
    }
  }
  return { file, partitions, records, seconds: secondsSince(started) };
}

export interface RestoreResult {
  file: string;
  /** Records in the file. */
  records: number;
  restored: number;
  /** Records whose ttl had run out by the time they came up: not written. */
  expired: number;
  seconds: number;
}

async function restore(context: CommandContext, file: string, concurrency: number): Promise<RestoreResult> {
  const started = Date.now();
  // First pass: the whole file is checked before a single write.
  const contents = await validateBackup(file).catch((error: NodeJS.ErrnoException) => {
    if (typeof error.code === 'string' && error.syscall !== undefined) throw new UsageError(`cannot read ${file}: ${error.code}`);
    throw error;
  });
  const client = context.client();
  const progress = createProgress(context.io);
  const label = `restore ${file}`;
  let restored = 0;
  let expired = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  try {
    progress.update(label, 0, contents.records);
    await forEachRecord(file, (record) => {
      if (failure !== undefined) return false;
      const task: Promise<void> = restoreRecord(client, record).then(
        (written) => {
          if (written) restored++;
          else expired++;
          progress.update(label, restored + expired, contents.records);
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      return inFlight.size >= concurrency ? Promise.race(inFlight).then(() => true) : true;
    });
  } catch (error) {
    failure ??= error;
  } finally {
    // Whatever stopped the loop, the writes already sent are waited for, so the count below is exact.
    await Promise.all(inFlight);
    progress.finish();
  }
  if (failure !== undefined) {
    const done = `${restored} of ${contents.records} records were restored before it`;
    if (failure instanceof KvError) throw new KvError(failure.code, `${failure.message} (${done})`, { cause: failure });
    throw failure;
  }
  return { file, records: contents.records, restored, expired, seconds: secondsSince(started) };
}

/** Calls `each` for every record of the file in order, waiting when it returns a promise; stops when it gives false. */
async function forEachRecord(file: string, each: (record: BackupRecord) => boolean | Promise<boolean>): Promise<void> {
  for await (const record of backupRecords(file)) {
    if (!(await each(record))) return;
  }
}

/**
 * Writes one record with its remaining ttl; false when it has already
 * expired. Repeating a restore's put is harmless (same key, same value, no
 * condition), so it is retried after an unknown outcome too.
 */
function restoreRecord(client: KvClient, record: BackupRecord): Promise<boolean> {
  const value = Buffer.from(record.value, 'base64');
  const policy = { retries: RESTORE_ATTEMPTS - 1, delayMs: 200, mayRepeat: (error: KvError) => error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT' };
  return withRetries(policy, async () => {
    let ttlSeconds: number | undefined;
    if (record.expiresAt !== null) {
      const remainingMs = record.expiresAt - Date.now();
      if (remainingMs <= 0) return false;
      ttlSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
    }
    await client.put(record.key, value, { ttlSeconds });
    return true;
  });
}

function secondsSince(started: number): number {
  return Math.round((Date.now() - started) / 100) / 10;
}
