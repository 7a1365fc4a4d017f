import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import type { LogEntry } from '../../src/replication/entry';
import type { Logger } from '../../src/replication/types';
import { LmdbEngine } from '../../src/store/lmdb-engine';
import { recoverStorage, type Recovered } from '../../src/store/recovery';

/** Unit tests of the LMDB storage: temp data dirs, entries, a logger that remembers, a commit counter. */

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed when the test process exits. */
export function tempDataDir(prefix = 'storage'): string {
  const dir = mkdtempSync(join(tmpdir(), `kvserver-${prefix}-`));
  made.push(dir);
  return dir;
}

export const putEntry = (seq: number, epoch: number, key: string, value: string | Buffer, expiresAt: number | null = null): LogEntry => ({
  seq,
  epoch,
  op: { type: 'put', key, value: Buffer.isBuffer(value) ? value : Buffer.from(value), expiresAt },
});
export const deleteEntry = (seq: number, epoch: number, key: string): LogEntry => ({ seq, epoch, op: { type: 'delete', key } });
export const noopEntry = (seq: number, epoch: number): LogEntry => ({ seq, epoch, op: { type: 'noop' } });

export interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  object: object;
  message: string | undefined;
}

/** A Logger that keeps every line, to assert on what recovery said. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (object: object, message?: string) => void lines.push({ level, object, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export type Opened = Recovered & { logger: ReturnType<typeof recordingLogger> };

/** recoverStorage on `dir`, as kvserver does at start, with a recording logger. */
export async function openStorage(dir: string, options: { fsync?: boolean } = {}): Promise<Opened> {
  const logger = recordingLogger();
  const recovered = await recoverStorage(dir, { fsync: options.fsync ?? true, logger });
  return { ...recovered, logger };
}

/** Waits for everything queued to be durable, then closes the environment (writing to a closed one crashes lmdb-js). */
export async function closeStorage(opened: { engine: LmdbEngine }): Promise<void> {
  await opened.engine.flush().catch(() => undefined);
  await opened.engine.close();
}

/** The LMDB root of an engine (private to LmdbEngine), for a test that must wait on LMDB itself after the engine has failed. */
export function rootOf(engine: LmdbEngine): RootDatabase {
  return engine['root'];
}

/**
 * Counts LMDB write transactions committed by `engine` from now on. A fresh
 * environment commits once on its own on its first write (txnId 0, creating
 * the named databases): call `warmUp` first so that it is not counted.
 */
export function countCommits(engine: LmdbEngine): { readonly count: number; reset(): void } {
  let count = 0;
  engine.onCommit(() => {
    count++;
  });
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
  };
}

/** One write and its commit, so that the environment's first-commit bookkeeping is behind us. */
export async function warmUp(engine: LmdbEngine): Promise<void> {
  engine.putMeta('installing', true);
  engine.removeMeta('installing');
  await engine.flush();
}

/** Opens `dir` with the bare engine (no recovery), lets `damage` change records, commits and closes: offline surgery. */
export async function withEngine(dir: string, damage: (engine: LmdbEngine) => void | Promise<void>): Promise<void> {
  const engine = LmdbEngine.open(dir, { fsync: true });
  try {
    await damage(engine);
    await engine.flush();
  } finally {
    await engine.close();
  }
}

/** A copy of the stored log record at `seq` (the engine may reuse the memory it returns). */
export function logRecord(engine: LmdbEngine, seq: number): Buffer {
  const record = engine.log.get(seq);
  if (!record) throw new Error(`no log record ${seq}`);
  return Buffer.from(record);
}

/** `record` with the byte at `index` inverted. */
export function flipByte(record: Buffer, index: number): Buffer {
  const copy = Buffer.from(record);
  copy[index] = copy[index]! ^ 0xff;
  return copy;
}
