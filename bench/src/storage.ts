/**
 * Benchmark of kvstore's own storage layer: the replica's real write path on
 * LMDB, through the same classes a kvserver with --data-dir uses
 * (StorageWriter of @kvstore/kvserver/internal: recoverStorage → DurableLog +
 * DurableStore on one LmdbEngine).
 *
 * A replica's write is: log.append([entry]) → await log.flush() (group
 * commit: every append of one event turn shares one LMDB transaction and one
 * fsync) → store.apply(entry), in sequence order. Reads are store.get(key),
 * synchronous. The log is compacted by the replica's own policy
 * (DEFAULT_REPLICATION_OPTIONS), so it stays as short as it would in a
 * running replica.
 *
 *   0. the disk's fsync floor (no engine), to judge the fsync rows by
 *   1. puts/s with fsync on and off, 1, 16 and 64 concurrent writers, and
 *      the CPU of a group commit (every thread of this process: LMDB commits
 *      on a thread of its own), in the program and in the kernel
 *   2. get/s of random existing keys
 *   3. restart: write N keys, close, time recoverStorage + first get, a full scan
 *   4. disk use after writing the same 10,000 keys 100 times, against the live data
 *
 * Every measurement uses a fresh directory under os.tmpdir(), removed after.
 * Results are printed as tables and written as JSON to
 * bench/results/storage-<ISO date>.json (or --out DIR).
 *
 * Usage: node bench/dist/src/storage.js [--quick] [--keys N] [--value-bytes N] [--out DIR] (--help says more)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { filePath, integer, parseCommandLine, type Settings as CommandLineSettings } from '@kvstore/cluster';
import { Command } from 'commander';
import { DEFAULT_REPLICATION_OPTIONS, StorageWriter, type Operation } from '@kvstore/kvserver/internal';
import { parseOrExit } from './command-line';
import { MB, diskUsage, formatCell, forSeconds, measureSyncedWrites, medianRun, printTable, runClosedLoop, shuffled, timeMs, withDir, type SyncFloor } from './common';

// ---------------------------------------------------------------- settings

const SETTINGS = {
  quick: { flags: '--quick', description: 'short runs (a few seconds each), 100,000 restart keys' },
  keys: { flags: '--keys <n>', description: 'keys for the restart test (default: 1,000,000)', parse: integer(1, Number.MAX_SAFE_INTEGER) },
  valueBytes: { flags: '--value-bytes <n>', description: 'value size', parse: integer(1, Number.MAX_SAFE_INTEGER), default: '100' },
  out: { flags: '--out <dir>', description: 'where to write storage-<date>.json (default: bench/results)', parse: filePath },
} as const satisfies CommandLineSettings;

const WRITER_COUNTS = [1, 16, 64];
/** Puts in the writer test go to random keys of this key space. */
const WRITE_KEY_SPACE = 100_000;
const READ_KEYS = 100_000;
/** Entries per append when loading data (restart and disk tests): one flush per batch. */
const LOAD_BATCH = 1000;
const OVERWRITE_KEYS = 10_000;
const EPOCH = 1;

interface Settings {
  quick: boolean;
  restartKeys: number;
  valueBytes: number;
  writeSeconds: number;
  warmupSeconds: number;
  /** Interleaved repetitions of every write configuration; the median is reported. */
  rounds: number;
  readSeconds: number;
  overwriteRounds: number;
  fsyncFloorSeconds: number;
  outDir: string;
}

/** Throws ConfigError for a bad command line, or with the help text (exit code 0) for --help. */
function parseSettings(argv: string[]): Settings {
  const { quick, keys, valueBytes, out } = parseCommandLine(new Command('node bench/dist/src/storage.js'), SETTINGS, argv);
  const outDir = path.resolve(out ?? path.join(__dirname, '..', '..', 'results'));
  return {
    quick,
    restartKeys: keys ?? (quick ? 100_000 : 1_000_000),
    valueBytes,
    writeSeconds: quick ? 0.3 : 2,
    warmupSeconds: quick ? 0.05 : 0.3,
    rounds: quick ? 1 : 3,
    readSeconds: quick ? 0.3 : 2,
    overwriteRounds: quick ? 10 : 100,
    fsyncFloorSeconds: quick ? 0.2 : 1,
    outDir,
  };
}

// ---------------------------------------------------------------- data

function keyOf(n: number): string {
  return `key:${n.toString().padStart(10, '0')}`;
}

/** Slices of random bytes: incompressible, and distinct from round to round. */
const valuePool = randomBytes(1 << 22);
function valueOf(n: number, bytes: number): Buffer {
  const offset = (n * 97) % (valuePool.length - bytes);
  return valuePool.subarray(offset, offset + bytes);
}


// ---------------------------------------------------------------- the write path

const logger = {
  info() {},
  debug() {},
  warn(object: object, message?: string) {
    console.error(`storage warn: ${message ?? ''} ${JSON.stringify(object)}`);
  },
  error(object: object, message?: string) {
    console.error(`storage error: ${message ?? ''} ${JSON.stringify(object)}`);
  },
};

const { maxLogEntries, maxLogBytes } = DEFAULT_REPLICATION_OPTIONS;

/**
 * One replica's storage, written as the replica writes it (StorageWriter).
 * Commits are counted from LMDB's aftercommit event (one per write transaction).
 */
class WritePath {
  commits = 0;

  constructor(readonly storage: StorageWriter) {
    storage.onCommit(() => this.commits++);
  }

  /** One client write: append, wait for its group commit, apply (in order). */
  put(key: string, value: Buffer): Promise<void> {
    return this.storage.appendAndApply([putOf(key, value)]);
  }

  /** Many writes in one append and one flush: how data is loaded for the restart and disk tests. */
  putMany(records: Array<[string, Buffer]>): Promise<void> {
    return this.storage.appendAndApply(records.map(([key, value]) => putOf(key, value)));
  }

  close(): Promise<void> {
    return this.storage.close();
  }
}

function putOf(key: string, value: Buffer): Operation {
  return { type: 'put', key, value, expiresAt: null };
}

function openStorage(dir: string, fsync: boolean): Promise<StorageWriter> {
  return StorageWriter.open(dir, { fsync, logger, epoch: EPOCH });
}

async function openWritePath(dir: string, fsync: boolean): Promise<WritePath> {
  return new WritePath(await openStorage(dir, fsync));
}

async function loadKeys(kv: WritePath, order: Uint32Array, valueFor: (n: number) => Buffer): Promise<void> {
  for (let i = 0; i < order.length; i += LOAD_BATCH) {
    await kv.putMany(Array.from(order.subarray(i, i + LOAD_BATCH), (n): [string, Buffer] => [keyOf(n), valueFor(n)]));
  }
}

// ---------------------------------------------------------------- measurements

interface FsyncFloor extends Omit<SyncFloor, 'perSec'> {
  syncsPerSec: number;
}

/** One small write + fdatasync in a loop, overwriting in place (as LMDB mostly writes): the disk's floor for W = 1. */
function measureFsyncFloor(root: string, seconds: number): FsyncFloor {
  const size = 1 << 20;
  const { perSec, ...rest } = measureSyncedWrites(path.join(root, 'fsync-floor'), size, valueOf(0, 128), seconds, (i) => (i * 4096) % size, fs.fdatasyncSync);
  return { syncsPerSec: perSec, ...rest };
}

interface WriteRun {
  puts: number;
  putsPerSec: number;
  commitsPerSec: number;
  putsPerCommit: number;
  /** This process's CPU (every thread: LMDB commits on its own) per commit, in the program and in the kernel (fsync). */
  userUsPerCommit: number;
  systemUsPerCommit: number;
  p50Ms: number;
  p99Ms: number;
}

/** Closed-loop writers: each waits for its put to be durable and applied before the next, as a client waiting for its PUT. */
async function runWriters(kv: WritePath, writers: number, seconds: number, valueBytes: number): Promise<WriteRun> {
  const commitsBefore = kv.commits;
  const cpuBefore = process.cpuUsage();
  let n = 0;
  const nextRecord = (): [string, Buffer] => [keyOf(Math.floor(Math.random() * WRITE_KEY_SPACE)), valueOf(n++, valueBytes)];
  const { count, elapsedMs, p50Ms, p99Ms } = await runClosedLoop(writers, forSeconds(seconds), nextRecord, (key, value) => kv.put(key, value));
  const commits = Math.max(1, kv.commits - commitsBefore);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    puts: count,
    putsPerSec: (count * 1000) / elapsedMs,
    commitsPerSec: (commits * 1000) / elapsedMs,
    putsPerCommit: count / commits,
    userUsPerCommit: cpu.user / commits,
    systemUsPerCommit: cpu.system / commits,
    p50Ms,
    p99Ms,
  };
}

interface WriteRow extends WriteRun {
  fsync: boolean;
  writers: number;
  /** Over the rounds: the median run is the row, these are the spread. */
  minPutsPerSec: number;
  maxPutsPerSec: number;
}

/**
 * Every configuration on a fresh data dir, after a discarded warm-up. The
 * fsync latency of a VM disk drifts, so the configurations run in `rounds`
 * interleaved rounds and the median run is reported with the spread.
 */
async function measureWrites(root: string, s: Settings): Promise<WriteRow[]> {
  const configs = [true, false].flatMap((fsync) => WRITER_COUNTS.map((writers) => ({ fsync, writers })));
  const runs = configs.map((): WriteRun[] => []);
  for (let round = 0; round < s.rounds; round++) {
    for (const [index, { fsync, writers }] of configs.entries()) {
      const run = await withDir(root, async (dir) => {
        const kv = await openWritePath(dir, fsync);
        try {
          await runWriters(kv, writers, s.warmupSeconds, s.valueBytes);
          return await runWriters(kv, writers, s.writeSeconds, s.valueBytes);
        } finally {
          await kv.close();
        }
      });
      runs[index]!.push(run);
    }
  }
  return configs.map(({ fsync, writers }, index) => {
    const { median, min, max } = medianRun(runs[index]!, (run) => run.putsPerSec);
    return { fsync, writers, ...median, minPutsPerSec: min, maxPutsPerSec: max };
  });
}

/** Random gets of existing keys for `seconds`, synchronous as the replica reads; every key must be found. */
function readFor(kv: WritePath, keyCount: number, seconds: number): number {
  const { store } = kv.storage;
  const keys = Array.from({ length: Math.min(keyCount, 100_000) }, () => keyOf(Math.floor(Math.random() * keyCount)));
  const keepGoing = forSeconds(seconds);
  const start = performance.now();
  let reads = 0;
  while (keepGoing()) {
    for (let i = 0; i < 1000; i++) {
      const key = keys[(reads + i) % keys.length]!;
      if (store.get(key) === undefined) throw new Error(`get: ${key} is missing`);
    }
    reads += 1000;
  }
  return (reads * 1000) / (performance.now() - start);
}

interface ReadResult {
  keys: number;
  loadSeconds: number;
  getsPerSec: number;
}

async function measureReads(root: string, s: Settings): Promise<ReadResult> {
  return withDir(root, async (dir) => {
    const kv = await openWritePath(dir, false);
    try {
      const loadSeconds = (await timeMs(() => loadKeys(kv, shuffled(READ_KEYS), (n) => valueOf(n, s.valueBytes)))) / 1000;
      await kv.storage.log.flush(); // the last applies committed: reads come from LMDB, not the overlay
      readFor(kv, READ_KEYS, s.readSeconds / 5); // warm-up: JIT, page cache
      return { keys: READ_KEYS, loadSeconds, getsPerSec: readFor(kv, READ_KEYS, s.readSeconds) };
    } finally {
      await kv.close();
    }
  });
}

interface RestartResult {
  keys: number;
  loadSeconds: number;
  /** recoverStorage: open the environment, read the meta, verify every log record after the base. */
  recoverMs: number;
  logEntriesVerified: number;
  firstGetMs: number;
  /** Every state record read and checksummed, through the snapshot reader a follower's snapshot uses. */
  scanMs: number;
  scannedKeys: number;
  getsPerSecAfterRestart: number;
  diskBytes: number;
}

/**
 * Writes `keys` keys in random order (batched, fsync off), closes the engine,
 * then times a restart as a replica does it. The page cache is warm, as after
 * a process restart (not a machine reboot).
 */
async function measureRestart(root: string, s: Settings): Promise<RestartResult> {
  return withDir(root, async (dir) => {
    const loadStart = performance.now();
    const writer = await openWritePath(dir, false);
    await loadKeys(writer, shuffled(s.restartKeys), (n) => valueOf(n, s.valueBytes));
    await writer.close();
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const recoverStart = performance.now();
    const storage = await openStorage(dir, true);
    const recoverMs = performance.now() - recoverStart;
    const probe = keyOf(Math.floor(Math.random() * s.restartKeys));
    const firstGetStart = performance.now();
    if (storage.store.get(probe) === undefined) throw new Error('restart: the probe key is missing');
    const firstGetMs = performance.now() - firstGetStart;
    const kv = new WritePath(storage);
    try {
      if (storage.store.appliedSeq !== s.restartKeys) throw new Error(`restart: applied ${storage.store.appliedSeq}, expected ${s.restartKeys}`);
      let scannedKeys = 0;
      const scanMs = await timeMs(() => {
        const snapshot = storage.store.openSnapshot();
        try {
          for (const record of snapshot.records) if (record.value.length === s.valueBytes) scannedKeys++;
        } finally {
          snapshot.close();
        }
      });
      if (scannedKeys !== s.restartKeys) throw new Error(`restart: scanned ${scannedKeys} of ${s.restartKeys} keys`);
      readFor(kv, s.restartKeys, s.readSeconds / 5);
      const getsPerSecAfterRestart = readFor(kv, s.restartKeys, s.readSeconds);
      return {
        keys: s.restartKeys,
        loadSeconds,
        recoverMs,
        logEntriesVerified: storage.log.lastSeq - storage.log.baseSeq,
        firstGetMs,
        scanMs,
        scannedKeys,
        getsPerSecAfterRestart,
        diskBytes: diskUsage(dir).allocated,
      };
    } finally {
      await kv.close();
    }
  });
}

interface DiskResult {
  keys: number;
  rounds: number;
  writes: number;
  /** Keys + values, raw. */
  liveBytes: number;
  /** Keys + stored records (value plus the 20-byte checksummed header). */
  liveRecordBytes: number;
  afterFirstRoundBytes: number;
  halfwayBytes: number;
  finalBytes: number;
  finalApparentBytes: number;
  logEntriesAtEnd: number;
  ratio: number;
}

/** Writes the same keys with fresh values, round after round, through the write path (log compacted by policy). */
async function measureDisk(root: string, s: Settings): Promise<DiskResult> {
  return withDir(root, async (dir) => {
    const kv = await openWritePath(dir, false);
    let afterFirstRoundBytes = 0;
    let halfwayBytes = 0;
    let logEntriesAtEnd = 0;
    try {
      for (let round = 0; round < s.overwriteRounds; round++) {
        await loadKeys(kv, shuffled(OVERWRITE_KEYS), (n) => valueOf(round * OVERWRITE_KEYS + n, s.valueBytes));
        await kv.storage.log.flush();
        if (round === 0) afterFirstRoundBytes = diskUsage(dir).allocated;
        if (round === Math.floor(s.overwriteRounds / 2) - 1) halfwayBytes = diskUsage(dir).allocated;
      }
      logEntriesAtEnd = kv.storage.log.lastSeq - kv.storage.log.baseSeq;
    } finally {
      await kv.close();
    }
    const { allocated, apparent } = diskUsage(dir);
    const keyBytes = Buffer.byteLength(keyOf(0));
    const liveBytes = OVERWRITE_KEYS * (keyBytes + s.valueBytes);
    return {
      keys: OVERWRITE_KEYS,
      rounds: s.overwriteRounds,
      writes: OVERWRITE_KEYS * s.overwriteRounds,
      liveBytes,
      liveRecordBytes: OVERWRITE_KEYS * (keyBytes + 20 + s.valueBytes),
      afterFirstRoundBytes,
      halfwayBytes,
      finalBytes: allocated,
      finalApparentBytes: apparent,
      logEntriesAtEnd,
      ratio: allocated / liveBytes,
    };
  });
}


// ---------------------------------------------------------------- output

const thousands = (n: number): string => n.toLocaleString('en-US');

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const s = parseOrExit('storage bench', () => parseSettings(process.argv.slice(2)));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kvstore-storage-bench-'));
  const startedAt = new Date();
  const started = performance.now();
  console.log(`kvstore storage bench (DurableLog + DurableStore on LMDB): node ${process.version}, ${os.cpus().length} cpus, data in ${root}`);
  console.log(`keys "${keyOf(0)}" (${Buffer.byteLength(keyOf(0))} bytes), ${s.valueBytes}-byte random values, log compacted past ${thousands(maxLogEntries)} entries${s.quick ? ', --quick' : ''}`);
  try {
    const fsyncFloor = measureFsyncFloor(root, s.fsyncFloorSeconds);
    printTable('0. Disk floor: one 128-byte overwrite + fdatasync in a loop (no engine)', ['syncs/s', 'p50 us', 'p99 us', 'CPU us/sync: user', 'kernel'],
      [[fsyncFloor.syncsPerSec, fsyncFloor.p50Us, fsyncFloor.p99Us, fsyncFloor.userUsPerSync, fsyncFloor.systemUsPerSync]]);

    const writes = await measureWrites(root, s);
    printTable(
      `1. Puts: append → await flush (group commit) → apply; random keys of ${thousands(WRITE_KEY_SPACE)}; ${s.writeSeconds} s per run, median of ${s.rounds}`,
      ['fsync', 'writers', 'puts/s', 'min..max', 'commits/s', 'puts/commit', 'CPU us/commit: user', 'kernel', 'p50 ms', 'p99 ms'],
      writes.map((r) => [r.fsync ? 'on' : 'off', r.writers, r.putsPerSec, `${formatCell(r.minPutsPerSec)}..${formatCell(r.maxPutsPerSec)}`,
        r.commitsPerSec, r.putsPerCommit, r.userUsPerCommit, r.systemUsPerCommit, r.p50Ms, r.p99Ms]),
    );

    const reads = await measureReads(root, s);
    printTable(`2. Gets: store.get(key) of random existing keys`, ['keys', 'load s', 'gets/s'],
      [[reads.keys, reads.loadSeconds, reads.getsPerSec]]);

    const restart = await measureRestart(root, s);
    printTable(`3. Restart with ${thousands(restart.keys)} keys (page cache warm, as after a process restart)`,
      ['load s', 'recoverStorage ms', 'log entries verified', 'first get ms', 'full scan ms', 'gets/s after', 'disk MB'],
      [[restart.loadSeconds, restart.recoverMs, restart.logEntriesVerified, restart.firstGetMs, restart.scanMs, restart.getsPerSecAfterRestart, restart.diskBytes / MB]]);

    const disk = await measureDisk(root, s);
    printTable(`4. Disk use: ${thousands(disk.keys)} keys written ${disk.rounds} times (${thousands(disk.writes)} puts)`,
      ['live MB', 'live records MB', 'after round 1 MB', 'halfway MB', 'final MB', 'file MB', 'log entries', 'final / live'],
      [[disk.liveBytes / MB, disk.liveRecordBytes / MB, disk.afterFirstRoundBytes / MB, disk.halfwayBytes / MB, disk.finalBytes / MB,
        disk.finalApparentBytes / MB, disk.logEntriesAtEnd, disk.ratio]]);

    const totalSeconds = (performance.now() - started) / 1000;
    const results = {
      suite: 'storage',
      startedAt: startedAt.toISOString(),
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, platform: process.platform, tmpdir: os.tmpdir() },
      settings: { ...s, outDir: undefined, writeKeySpace: WRITE_KEY_SPACE, writerCounts: WRITER_COUNTS, loadBatch: LOAD_BATCH, maxLogEntries, maxLogBytes },
      fsyncFloor,
      writes,
      reads,
      restart,
      disk,
      totalSeconds,
    };
    fs.mkdirSync(s.outDir, { recursive: true });
    const file = path.join(s.outDir, `storage-${startedAt.toISOString().replace(/:/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    const shown = path.relative(process.cwd(), file);
    console.log(`\n${totalSeconds.toFixed(1)} s; results written to ${shown.startsWith('..') ? file : shown}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
