/**
 * Storage-engine benchmark for a kvstore replica (issue 3, README "Storage").
 *
 * Compares LevelDB (classic-level) and LMDB (lmdb-js) on the project's own
 * write path, on this machine:
 *   1. group-committed log appends with fsync (W = 1, 16, 64 writers),
 *   2. the same without fsync,
 *   3. random state puts, then random gets,
 *   4. restart time (open + full scan, open + first get),
 *   5. disk use after overwriting the same keys many times,
 * plus the raw fsync floor of the disk, so the fsync rows can be judged.
 * Every test uses a fresh directory under os.tmpdir(), removed afterwards.
 *
 * Usage: node bench/dist/src/storage-engines.js [--keys N] [--quick] (--help says more)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { integer, parseCommandLine, type Settings as CommandLineSettings } from '@kvstore/cluster';
import { Command } from 'commander';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb, type RootDatabase, type RootDatabaseOptions } from 'lmdb';
import { parseOrExit } from './command-line';
import { MB, diskUsage, formatCell, forSeconds, measureSyncedWrites, medianRun, printTable, runClosedLoop, shuffled, timeMs, withDir, type SyncFloor } from './common';

// ---------------------------------------------------------------- settings

/** Log keys are 8-byte big-endian sequence numbers, so key order is log order. */
const KEY_BYTES = 8;
const VALUE_BYTES = 100;
const RECORD_BYTES = KEY_BYTES + VALUE_BYTES;
const WRITER_COUNTS = [1, 16, 64];
/** Records per commit when loading data for the read, restart and disk tests. */
const LOAD_BATCH = 1000;
/** Concurrent writers for the state-put test: a busy leader, as in the log test. */
const STATE_WRITERS = 64;
const OVERWRITE_KEYS = 10_000;
const OVERWRITE_ROUNDS = 100;

interface Settings {
  restartKeys: number;
  stateKeys: number;
  appendSeconds: number;
  warmupSeconds: number;
  /** Interleaved repetitions of every append configuration; the median is reported. */
  rounds: number;
  readSeconds: number;
  fsyncFloorSeconds: number;
}

const SETTINGS = {
  keys: { flags: '--keys <n>', description: 'keys for the restart test (default: 1,000,000)', parse: integer(1, Number.MAX_SAFE_INTEGER) },
  quick: { flags: '--quick', description: 'shorter runs and 100,000 restart keys' },
} as const satisfies CommandLineSettings;

/** Throws ConfigError for a bad command line, or with the help text (exit code 0) for --help. */
function parseSettings(argv: string[]): Settings {
  const { keys, quick } = parseCommandLine(new Command('node bench/dist/src/storage-engines.js'), SETTINGS, argv);
  return {
    restartKeys: keys ?? (quick ? 100_000 : 1_000_000),
    stateKeys: 100_000,
    appendSeconds: quick ? 0.5 : 1,
    warmupSeconds: quick ? 0.1 : 0.2,
    rounds: quick ? 1 : 3,
    readSeconds: quick ? 0.3 : 1,
    fsyncFloorSeconds: quick ? 0.5 : 1,
  };
}

// ---------------------------------------------------------------- records

function keyOf(n: number): Buffer {
  const key = Buffer.allocUnsafe(KEY_BYTES);
  key.writeUInt32BE(Math.floor(n / 2 ** 32), 0);
  key.writeUInt32BE(n >>> 0, 4);
  return key;
}

/**
 * Values are slices of random bytes: incompressible, so LevelDB's default
 * Snappy compression cannot make its records smaller than LMDB's (which
 * stores values uncompressed), and neither engine can dedupe them.
 */
const valuePool = randomBytes(1 << 20);
function valueOf(n: number): Buffer {
  const offset = (n * VALUE_BYTES) % (valuePool.length - VALUE_BYTES);
  return valuePool.subarray(offset, offset + VALUE_BYTES);
}


// ---------------------------------------------------------------- engines

/** A way to read keys; returns how many were found (all of them, or the run is wrong). */
interface Reader {
  name: string;
  read(keys: Buffer[]): Promise<number>;
}

/** What the benchmarks need from an engine; each adapter maps it to the engine's own API. */
interface Store {
  /**
   * Queues one record. Resolves when the commit holding it is acknowledged at
   * the store's durability level; records queued meanwhile share that commit.
   */
  write(key: Buffer, value: Buffer): Promise<unknown>;
  /** Commits issued so far, to report records per commit. */
  commits(): number;
  /** Writes many records in one commit (no fsync); sets up the read, restart and disk tests. */
  load(entries: Array<[Buffer, Buffer]>): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined>;
  readers(): Reader[];
  /** Reads every record once in key order (keys and values); returns the count. */
  scan(): Promise<number>;
  /** Reclaims space held by overwritten records, if the engine can. */
  compact(): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  key: Buffer;
  value: Buffer;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * LevelDB has no write batching of its own across calls from JS, so this is
 * the group commit the replica would implement: writes queue up, and whenever
 * no commit is running, everything queued goes into one `db.batch(ops,
 * { sync })`. The commit starts on the next event-loop turn (setImmediate),
 * like LMDB's event-turn batching, so writes arriving in one turn share it.
 */
class LevelStore implements Store {
  private queue: Pending[] = [];
  private committing = false;
  private commitCount = 0;

  private constructor(
    private readonly db: ClassicLevel<Buffer, Buffer>,
    private readonly sync: boolean,
  ) {}

  static async open(dir: string, sync: boolean): Promise<LevelStore> {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return new LevelStore(db, sync);
  }

  write(key: Buffer, value: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, value, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        setImmediate(() => void this.commitQueued());
      }
    });
  }

  private async commitQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      this.commitCount++;
      try {
        await this.db.batch(group.map(putOp), { sync: this.sync });
        for (const pending of group) pending.resolve();
      } catch (err) {
        for (const pending of group) pending.reject(err);
      }
    }
    this.committing = false;
  }

  commits(): number {
    return this.commitCount;
  }

  async load(entries: Array<[Buffer, Buffer]>): Promise<void> {
    await this.db.batch(entries.map(([key, value]) => putOp({ key, value })), { sync: false });
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.db.get(key);
  }

  readers(): Reader[] {
    const db = this.db;
    return [
      { name: 'getSync (classic-level 3.x)', read: async (keys) => countFound(keys.map((k) => db.getSync(k))) },
      { name: 'get, awaited one at a time', read: (keys) => readConcurrently(keys, 1, (k) => db.get(k)) },
      { name: 'get, 64 in flight', read: (keys) => readConcurrently(keys, 64, (k) => db.get(k)) },
      { name: 'getMany, 100 keys a call', read: (keys) => readInChunks(keys, 100, (chunk) => db.getMany(chunk)) },
    ];
  }

  async scan(): Promise<number> {
    // A large highWaterMarkBytes lets nextv() fill whole pages of 1000 entries.
    const iterator = this.db.iterator({ highWaterMarkBytes: 1000 * RECORD_BYTES * 2 });
    let count = 0;
    try {
      for (let page = await iterator.nextv(1000); page.length > 0; page = await iterator.nextv(1000)) {
        count += page.length;
      }
    } finally {
      await iterator.close();
    }
    return count;
  }

  /** compactRange flushes the memtable and rewrites every level, dropping overwritten versions. */
  compact(): Promise<void> {
    return this.db.compactRange(Buffer.alloc(KEY_BYTES, 0x00), Buffer.alloc(KEY_BYTES, 0xff));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function putOp({ key, value }: { key: Buffer; value: Buffer }): { type: 'put'; key: Buffer; value: Buffer } {
  return { type: 'put', key, value };
}

/**
 * How an LMDB write is acknowledged. lmdb-js batches every write made in one
 * event-loop turn into one transaction on its writer thread (its own group
 * commit). With overlappingSync (the default on Linux) the put() promise
 * resolves at commit, BEFORE the fsync; the durable point is `.flushed`.
 */
type LmdbAck = 'commit' | 'flushed';

type FlushablePromise = Promise<boolean> & { flushed?: PromiseLike<unknown> };

class LmdbStore implements Store {
  private commitCount = 0;

  private constructor(
    private readonly db: RootDatabase<Buffer, Buffer>,
    private readonly ack: LmdbAck,
  ) {
    db.on('aftercommit', () => this.commitCount++);
  }

  static async open(dir: string, options: RootDatabaseOptions, ack: LmdbAck): Promise<LmdbStore> {
    // Raw binary keys and values, as LevelDB gets: no msgpack or ordered-binary encoding cost.
    const db = openLmdb<Buffer, Buffer>(dir, { keyEncoding: 'binary', encoding: 'binary', ...options });
    return new LmdbStore(db, ack);
  }

  write(key: Buffer, value: Buffer): Promise<unknown> {
    const committed: FlushablePromise = this.db.put(key, value);
    if (this.ack === 'commit') return committed;
    if (!committed.flushed) throw new Error('lmdb: ack on flush needs { separateFlushed: true }');
    return Promise.resolve(committed.flushed);
  }

  commits(): number {
    return this.commitCount;
  }

  async load(entries: Array<[Buffer, Buffer]>): Promise<void> {
    await this.db.batch(() => {
      for (const [key, value] of entries) void this.db.put(key, value);
    });
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    return this.db.get(key);
  }

  readers(): Reader[] {
    const db = this.db;
    return [
      { name: 'get (synchronous)', read: async (keys) => countFound(keys.map((k) => db.get(k))) },
      { name: 'getMany, 100 keys a call', read: (keys) => readInChunks(keys, 100, (chunk) => db.getMany(chunk)) },
    ];
  }

  async scan(): Promise<number> {
    // Counting only full-size values makes the scan touch (decode) every value, as LevelDB's does.
    let count = 0;
    for (const entry of this.db.getRange()) if (entry.value.length === VALUE_BYTES) count++;
    return count;
  }

  /** LMDB has no compaction: freed pages are reused in place and the file never shrinks. */
  async compact(): Promise<void> {}

  close(): Promise<void> {
    return this.db.close();
  }
}

function countFound(values: Array<Buffer | undefined>): number {
  return values.filter((value) => value !== undefined).length;
}

async function readConcurrently(
  keys: Buffer[],
  inFlight: number,
  get: (key: Buffer) => Promise<Buffer | undefined>,
): Promise<number> {
  let next = 0;
  let found = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) if ((await get(keys[next++]!)) !== undefined) found++;
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return found;
}

async function readInChunks(
  keys: Buffer[],
  size: number,
  getMany: (chunk: Buffer[]) => Promise<Array<Buffer | undefined>>,
): Promise<number> {
  let found = 0;
  for (let i = 0; i < keys.length; i += size) found += countFound(await getMany(keys.slice(i, i + size)));
  return found;
}

// ---------------------------------------------------------------- configurations

interface Variant {
  engine: 'LevelDB' | 'LMDB';
  /** How the write is made durable and when it is acknowledged. */
  mode: string;
  /** True when the ack means "on disk": only these rows are comparable to each other. */
  durableAck: boolean;
  open(dir: string): Promise<Store>;
}

const LEVELDB_FSYNC: Variant = {
  engine: 'LevelDB', mode: 'batch sync:true', durableAck: true,
  open: (dir) => LevelStore.open(dir, true),
};
const LMDB_FSYNC_IN_COMMIT: Variant = {
  engine: 'LMDB', mode: 'overlappingSync:false, ack on put()', durableAck: true,
  open: (dir) => LmdbStore.open(dir, { overlappingSync: false }, 'commit'),
};
const LMDB_FSYNC_OVERLAPPED: Variant = {
  engine: 'LMDB', mode: 'overlappingSync:true, ack on .flushed', durableAck: true,
  open: (dir) => LmdbStore.open(dir, { overlappingSync: true, separateFlushed: true }, 'flushed'),
};
/** lmdb-js's default on Linux, shown because it looks durable and is not: the ack precedes the fsync. */
const LMDB_DEFAULT_ACK_ON_COMMIT: Variant = {
  engine: 'LMDB', mode: 'default (overlapping), ack on put(): NOT durable', durableAck: false,
  open: (dir) => LmdbStore.open(dir, {}, 'commit'),
};
const LEVELDB_NOSYNC: Variant = {
  engine: 'LevelDB', mode: 'batch sync:false', durableAck: false,
  open: (dir) => LevelStore.open(dir, false),
};
const LMDB_NOSYNC: Variant = {
  engine: 'LMDB', mode: 'noSync:true', durableAck: false,
  open: (dir) => LmdbStore.open(dir, { noSync: true }, 'commit'),
};

const FSYNC_VARIANTS = [LEVELDB_FSYNC, LMDB_FSYNC_IN_COMMIT, LMDB_FSYNC_OVERLAPPED, LMDB_DEFAULT_ACK_ON_COMMIT];
/** State, restart and disk tests run without fsync, as the brief's state path does. */
const NOSYNC_VARIANTS = [LEVELDB_NOSYNC, LMDB_NOSYNC];

// ---------------------------------------------------------------- measurements

interface FsyncFloor extends SyncFloor {
  how: string;
}

/**
 * The disk's floor for one durable write, with no engine: write one record
 * and sync it, in a loop. No engine acks fsynced commits faster than this;
 * group commit is how they beat it per record. Appending changes the file
 * size, so each sync also commits file-system metadata (the journal);
 * overwriting a preallocated region, as LMDB mostly does, does not.
 */
function measureFsyncFloor(root: string, seconds: number): FsyncFloor[] {
  const file = path.join(root, 'fsync-floor.log');
  const record = Buffer.concat([keyOf(0), valueOf(0)]);
  const preallocated = 1 << 20;
  const cases = [
    { how: 'append + fdatasync', sync: fs.fdatasyncSync, append: true },
    { how: 'append + fsync', sync: fs.fsyncSync, append: true },
    { how: 'overwrite in place + fdatasync', sync: fs.fdatasyncSync, append: false },
  ];
  return cases.map(({ how, sync, append }) => {
    const offsetOf = (i: number): number => (append ? preallocated + i * RECORD_BYTES : (i * RECORD_BYTES) % preallocated);
    return { how, ...measureSyncedWrites(file, preallocated, record, seconds, offsetOf, sync) };
  });
}

interface WriteResult {
  records: number;
  perSec: number;
  recordsPerCommit: number;
  p50Ms: number;
  p99Ms: number;
}

/** Closed-loop writers on `store` (runClosedLoop), with the records per commit. */
async function runWriters(
  store: Store,
  writers: number,
  keepGoing: () => boolean,
  nextKey: () => [Buffer, Buffer],
): Promise<WriteResult> {
  const commitsBefore = store.commits();
  const { count, elapsedMs, p50Ms, p99Ms } = await runClosedLoop(writers, keepGoing, nextKey, (key, value) => store.write(key, value));
  return {
    records: count,
    perSec: (count * 1000) / elapsedMs,
    recordsPerCommit: count / Math.max(1, store.commits() - commitsBefore),
    p50Ms,
    p99Ms,
  };
}

function forCount(count: number): () => boolean {
  let issued = 0;
  return () => issued++ < count;
}

interface AppendRow extends WriteResult {
  engine: string;
  mode: string;
  durableAck: boolean;
  writers: number;
}

/** Log appends: sequential keys from one counter, shared by all writers. A warm-up run is discarded. */
async function measureAppends(root: string, variant: Variant, writers: number, s: Settings): Promise<AppendRow> {
  return withDir(root, async (dir) => {
    const store = await variant.open(dir);
    let seq = 0;
    const nextRecord = (): [Buffer, Buffer] => [keyOf(seq), valueOf(seq++)];
    try {
      await runWriters(store, writers, forSeconds(s.warmupSeconds), nextRecord);
      const result = await runWriters(store, writers, forSeconds(s.appendSeconds), nextRecord);
      return { engine: variant.engine, mode: variant.mode, durableAck: variant.durableAck, writers, ...result };
    } finally {
      await store.close();
    }
  });
}

/**
 * This is a VM disk whose fsync latency drifts from second to second, so every
 * configuration runs in `rounds` interleaved rounds (engines alternate, none
 * gets the quiet minute) and the median run is reported with the spread.
 */
async function measureAppendMatrix(root: string, variants: Variant[], s: Settings): Promise<AppendSeries[]> {
  const runs = new Map<string, AppendRow[]>();
  for (let round = 0; round < s.rounds; round++) {
    for (const variant of variants) {
      for (const writers of WRITER_COUNTS) {
        const id = `${variant.engine} ${variant.mode} ${writers}`;
        runs.set(id, [...(runs.get(id) ?? []), await measureAppends(root, variant, writers, s)]);
      }
    }
  }
  return [...runs.values()].map((series) => {
    const { median, min, max } = medianRun(series, (run) => run.perSec);
    return { ...median, minPerSec: min, maxPerSec: max };
  });
}

interface AppendSeries extends AppendRow {
  minPerSec: number;
  maxPerSec: number;
}

interface StateResult {
  engine: string;
  puts: WriteResult;
  reads: Array<{ reader: string; perSec: number }>;
}

/** Random puts through the same group-commit path as the log, then random point reads. */
async function measureState(root: string, variant: Variant, s: Settings): Promise<StateResult> {
  return withDir(root, async (dir) => {
    const store = await variant.open(dir);
    try {
      const order = shuffled(s.stateKeys);
      let i = 0;
      const nextRecord = (): [Buffer, Buffer] => [keyOf(order[i % order.length]!), valueOf(i++)];
      const puts = await runWriters(store, STATE_WRITERS, forCount(s.stateKeys), nextRecord);
      const reads = [];
      for (const reader of store.readers()) {
        await readFor(reader, s.stateKeys, s.readSeconds / 5); // warm-up: JIT and block cache
        reads.push({ reader: reader.name, perSec: await readFor(reader, s.stateKeys, s.readSeconds) });
      }
      return { engine: variant.engine, puts, reads };
    } finally {
      await store.close();
    }
  });
}

/** Reads random existing keys in rounds of 1000 for `seconds`; returns reads per second. */
async function readFor(reader: Reader, keyCount: number, seconds: number): Promise<number> {
  const keepGoing = forSeconds(seconds);
  const start = performance.now();
  let reads = 0;
  while (keepGoing()) {
    const keys = Array.from({ length: 1000 }, () => keyOf(Math.floor(Math.random() * keyCount)));
    const found = await reader.read(keys);
    if (found !== keys.length) throw new Error(`${reader.name}: found ${found} of ${keys.length} keys`);
    reads += found;
  }
  return (reads * 1000) / (performance.now() - start);
}

interface RestartResult {
  engine: string;
  keys: number;
  loadSeconds: number;
  openFirstGetMs: number;
  openScanMs: number;
  diskBytes: number;
}

/**
 * Writes `keys` records in random order, closes, then times two restarts:
 * open + first get (the first open after the writer closed; LevelDB replays
 * its write-ahead log here), then open + a full in-order scan.
 */
async function measureRestart(root: string, variant: Variant, keys: number): Promise<RestartResult> {
  return withDir(root, async (dir) => {
    const loadStart = performance.now();
    const writer = await variant.open(dir);
    await loadInBatches(writer, shuffled(keys), (n) => valueOf(n));
    await writer.close();
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const probe = keyOf(Math.floor(Math.random() * keys));
    const openFirstGetMs = await timeMs(async () => {
      const store = await variant.open(dir);
      if ((await store.get(probe)) === undefined) throw new Error('restart: probe key missing');
      await store.close();
    });
    const openScanMs = await timeMs(async () => {
      const store = await variant.open(dir);
      const count = await store.scan();
      if (count !== keys) throw new Error(`restart: scanned ${count} of ${keys} keys`);
      await store.close();
    });
    return { engine: variant.engine, keys, loadSeconds, openFirstGetMs, openScanMs, diskBytes: diskUsage(dir).allocated };
  });
}

async function loadInBatches(store: Store, order: Uint32Array, valueFor: (n: number) => Buffer): Promise<void> {
  for (let i = 0; i < order.length; i += LOAD_BATCH) {
    const batch = Array.from(order.subarray(i, i + LOAD_BATCH), (n): [Buffer, Buffer] => [keyOf(n), valueFor(n)]);
    await store.load(batch);
  }
}

interface OverwriteResult {
  engine: string;
  liveBytes: number;
  /** After half the rounds: equal to the final size means growth has stopped. */
  halfwayBytes: number;
  beforeCompactBytes: number;
  afterCompactBytes: number;
  compactMs: number;
  ratio: number;
}

/** Overwrites the same keys with fresh values, round after round, then compacts. */
async function measureOverwrites(root: string, variant: Variant): Promise<OverwriteResult> {
  return withDir(root, async (dir) => {
    const store = await variant.open(dir);
    try {
      let halfwayBytes = 0;
      for (let round = 0; round < OVERWRITE_ROUNDS; round++) {
        await loadInBatches(store, shuffled(OVERWRITE_KEYS), (n) => valueOf(round * OVERWRITE_KEYS + n));
        if (round === OVERWRITE_ROUNDS / 2 - 1) halfwayBytes = diskUsage(dir).allocated;
      }
      const beforeCompactBytes = diskUsage(dir).allocated;
      const compactMs = await timeMs(() => store.compact());
      const afterCompactBytes = diskUsage(dir).allocated;
      const liveBytes = OVERWRITE_KEYS * RECORD_BYTES;
      return {
        engine: variant.engine, liveBytes, halfwayBytes, beforeCompactBytes, afterCompactBytes, compactMs,
        ratio: afterCompactBytes / liveBytes,
      };
    } finally {
      await store.close();
    }
  });
}


// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const s = parseOrExit('storage-engines bench', () => parseSettings(process.argv.slice(2)));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kvstore-bench-'));
  const started = performance.now();
  console.log(`kvstore storage-engine bench: node ${process.version}, ${os.cpus().length} cpus, data in ${root}`);
  console.log(`records: ${KEY_BYTES}-byte keys + ${VALUE_BYTES}-byte random values; settings ${JSON.stringify(s)}`);
  try {
    const fsyncFloor = measureFsyncFloor(root, s.fsyncFloorSeconds);
    printTable('0. Disk floor: write one 108-byte record + sync, in a loop (no engine)', ['how', 'syncs/s', 'p50 us', 'p99 us', 'CPU us/sync: user', 'kernel'],
      fsyncFloor.map((f) => [f.how, f.perSec, f.p50Us, f.p99Us, f.userUsPerSync, f.systemUsPerSync]));

    const appendsFsync = await measureAppendMatrix(root, FSYNC_VARIANTS, s);
    printAppends(`1. Log appends WITH fsync, group commit (one commit for all writes waiting), median of ${s.rounds}`, appendsFsync);

    const appendsNoSync = await measureAppendMatrix(root, NOSYNC_VARIANTS, s);
    printAppends(`2. Log appends WITHOUT fsync, group commit, median of ${s.rounds}`, appendsNoSync);

    const state: StateResult[] = [];
    for (const variant of NOSYNC_VARIANTS) state.push(await measureState(root, variant, s));
    printTable(`3a. State: ${s.stateKeys.toLocaleString('en-US')} random puts, ${STATE_WRITERS} writers, group commit, no fsync`,
      ['engine', 'puts/s', 'recs/commit', 'p50 ms', 'p99 ms'],
      state.map((r) => [r.engine, r.puts.perSec, r.puts.recordsPerCommit, r.puts.p50Ms, r.puts.p99Ms]));
    printTable('3b. State: random gets of existing keys', ['engine', 'read API', 'gets/s'],
      state.flatMap((r) => r.reads.map((read) => [r.engine, read.reader, read.perSec])));

    const restart: RestartResult[] = [];
    for (const variant of NOSYNC_VARIANTS) restart.push(await measureRestart(root, variant, s.restartKeys));
    printTable(`4. Restart with ${s.restartKeys.toLocaleString('en-US')} keys (page cache warm, as after a process restart)`,
      ['engine', 'load s', 'open+first get ms', 'open+full scan ms', 'disk MB'],
      restart.map((r) => [r.engine, r.loadSeconds, r.openFirstGetMs, r.openScanMs, r.diskBytes / MB]));

    const overwrites: OverwriteResult[] = [];
    for (const variant of NOSYNC_VARIANTS) overwrites.push(await measureOverwrites(root, variant));
    printTable(`5. Disk use: ${OVERWRITE_KEYS.toLocaleString('en-US')} keys written ${OVERWRITE_ROUNDS} times`,
      ['engine', 'live MB', 'halfway MB', 'before compact MB', 'after compact MB', 'compact ms', 'after / live'],
      overwrites.map((r) => [r.engine, r.liveBytes / MB, r.halfwayBytes / MB, r.beforeCompactBytes / MB, r.afterCompactBytes / MB, r.compactMs, r.ratio]));

    const summary = {
      machine: { node: process.version, cpus: os.cpus().length, platform: process.platform, tmpdir: os.tmpdir() },
      settings: s,
      record: { keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES },
      fsyncFloor, appendsFsync, appendsNoSync, state, restart, overwrites,
      totalSeconds: (performance.now() - started) / 1000,
    };
    console.log(`\nJSON summary\n${JSON.stringify(summary, null, 2)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function printAppends(title: string, rows: AppendSeries[]): void {
  printTable(title, ['engine', 'durability / ack', 'W', 'appends/s', 'min..max', 'recs/commit', 'p50 ms', 'p99 ms'],
    rows.map((r) => [r.engine, r.mode, r.writers, r.perSec, `${formatCell(r.minPerSec)}..${formatCell(r.maxPerSec)}`,
      r.recordsPerCommit, r.p50Ms, r.p99Ms]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
