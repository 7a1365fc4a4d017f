import * as path from 'node:path';
import { choice, ConfigError, filePath, integer, parseCommandLine, text, type Settings, type ValueParser } from '@kvstore/cluster';
import { Command, InvalidArgumentError } from 'commander';

/** What `npm run bench -- cluster [flags]` was asked to do, with the defaults filled in. */
export interface ClusterBenchOptions {
  partitions: number;
  replicas: number;
  replication: 'sync' | 'async';
  fsync: boolean;
  /** Replicas without --data-dir. */
  memory: boolean;
  /** Seconds per scenario. */
  durationS: number;
  /** Seconds per row of the scaling figure (shorter: there are many rows). */
  scaleDurationS: number;
  connections: number;
  valueBytes: number;
  outDir: string;
  smoke: boolean;
  cpuProfDir: string | undefined;
  /** Key counts of the "GET with N keys loaded" rows. */
  scaleKeys: number[];
  /** Connection counts of the scaling figure. */
  scaleConnections: number[];
  /** Keys the ordinary GET, PUT and mix rows pick from at random. */
  hotKeys: number;
  /** Keys of the "uniform" row; prefilled once, it includes the hot keys. */
  uniformKeys: number;
  /** Concurrent PUTs of a prefill. */
  loaderConnections: number;
  etcd: boolean;
  /** Run only the resharding scenario (bench/README.md, "reshard"). */
  reshard: boolean;
  /** Keys loaded before the resharding scenario's first step. */
  reshardKeys: number;
  /** Partitions owning slots at the start and after each step of the resharding scenario (empty without --reshard). */
  reshardSteps: number[];
  /** kvserver --migration-rate (keys/s per source partition); undefined: the server's default. */
  migrationRate: number | undefined;
  /** Run only the comparison against this git revision's build (compare.ts). */
  against: string | undefined;
  /** Run only the security variants' comparison (security.ts). */
  security: boolean;
  /** Run only the pipelining comparison (pipeline.ts). */
  pipeline: boolean;
  /** kvserver --appends-in-flight of each cluster of the pipelining comparison, the reference first. */
  windows: number[];
  /** Round trip added to every connection to a replica in the pipelining comparison (0: plain loopback). */
  rttMs: number;
  /** Interleaved rounds of each comparison (rounds.ts). */
  rounds: number;
}

const MAX_SCALE_KEYS = 100_000_000;

/** Seconds, fractions allowed, more than 0 and at most an hour. */
const seconds: ValueParser<number> = (raw) => {
  const value = Number(raw);
  if (!(value > 0 && value <= 3600)) throw new InvalidArgumentError('must be seconds, more than 0 and at most 3600');
  return value;
};

/** Key counts, comma-separated: sorted, each once. */
const keyCounts: ValueParser<number[]> = (raw) => {
  try {
    return [...new Set(raw.split(',').map(integer(1, MAX_SCALE_KEYS)))].sort((a, b) => a - b);
  } catch {
    throw new InvalidArgumentError(`must be comma-separated integers from 1 to ${MAX_SCALE_KEYS}`);
  }
};

/** Appends in flight per follower, comma-separated, each once, in the order given (the first is the reference). */
const windowList: ValueParser<number[]> = (raw) => {
  let windows: number[];
  try {
    windows = raw.split(',').map(integer(1, 64));
  } catch {
    throw new InvalidArgumentError('must be comma-separated integers from 1 to 64');
  }
  if (windows.length < 2 || new Set(windows).size !== windows.length) throw new InvalidArgumentError('must list at least two different windows');
  return windows;
};

/** Partition counts, comma-separated: at least two, each one more or one fewer than the one before. */
const partitionCounts: ValueParser<number[]> = (raw) => {
  const counts = raw.split(',').map(integer(1, 64));
  if (counts.length < 2) throw new InvalidArgumentError('must list at least two partition counts');
  if (counts.some((count, index) => index > 0 && Math.abs(count - counts[index - 1]!) !== 1)) {
    throw new InvalidArgumentError('must change by one partition a step (each count one more or one fewer than the one before)');
  }
  return counts;
};

/** The flags; a default that --smoke changes is left to parseOptions (and said in the description). */
const SETTINGS = {
  partitions: { flags: '--partitions <n>', description: 'partitions (default: 1; with --reshard, the first of --reshard-steps)', parse: integer(1, 64) },
  replicas: { flags: '--replicas <n>', description: 'replicas per partition (default: 3; 2 with --smoke)', parse: integer(1, 9) },
  replication: { flags: '--replication <mode>', description: 'sync or async', parse: choice(['sync', 'async']), default: 'sync' },
  fsync: { flags: '--fsync <on|off>', description: 'fsync before acknowledging', parse: choice(['on', 'off']), default: 'on' },
  memory: { flags: '--memory', description: 'replicas without a data dir (default: a temp data dir each)' },
  duration: { flags: '--duration <s>', description: 'seconds per scenario; with --reshard, of the load before the first step, and after each (5 at most) (default: 10; 1 with --smoke)', parse: seconds },
  connections: { flags: '--connections <n>', description: 'concurrent connections of the load (default: 64; 8 with --smoke)', parse: integer(1, 10_000) },
  valueBytes: { flags: '--value-bytes <n>', description: 'value size', parse: integer(1, 1024 * 1024), default: '100' },
  scaleKeys: { flags: '--scale-keys <list>', description: 'key counts of the scaling rows (default: 10000,1000000; 2000 with --smoke)', parse: keyCounts },
  out: { flags: '--out <dir>', description: 'where the JSON and SVG go (default: bench/results)', parse: filePath },
  cpuProf: { flags: '--cpu-prof <dir>', description: 'run gate and servers with --cpu-prof into <dir>, print a summary after', parse: filePath },
  smoke: { flags: '--smoke', description: 'a tiny, quick run (1 partition x 2 replicas, 1 s rows, no etcd; with --reshard: 2 replicas, 1,000 keys)' },
  reshard: {
    flags: '--reshard',
    description: 'run only the resharding scenario: load keys, then add and remove partitions under a mixed load, each migration to its end, and read every key back',
  },
  reshardKeys: {
    flags: '--reshard-keys <n>',
    description: 'keys loaded before the first step (default: 1000000; 1000 with --smoke); at least 4 per connection',
    parse: integer(1, MAX_SCALE_KEYS),
  },
  reshardSteps: {
    flags: '--reshard-steps <list>',
    description: 'partition counts to go through, one partition added or removed a step (default: N,N+1,N+2,N+1,N with N = --partitions, else 2)',
    parse: partitionCounts,
  },
  migrationRate: {
    flags: '--migration-rate <keys/s>',
    description: "kvserver --migration-rate of every replica (default: the server's, 20000)",
    parse: integer(1, 1e9),
  },
  against: {
    flags: '--against <rev>',
    description: "run only the comparison: this checkout against <rev>'s build (a git commit, tag or branch), side by side, in interleaved rounds of gate GET and PUT",
    parse: text,
  },
  security: {
    flags: '--security',
    description: 'run only the security comparison: plain, --auth on, TLS and auth+TLS clusters side by side, in interleaved rounds of gate GET and PUT',
  },
  pipeline: {
    flags: '--pipeline',
    description: 'run only the pipelining comparison: a cluster per --windows value of kvserver --appends-in-flight, every replica --rtt-ms away, side by side, in interleaved rounds of gate PUT',
  },
  windows: { flags: '--windows <list>', description: 'with --pipeline: the --appends-in-flight of each cluster, the first the reference (default: 1,4,16)', parse: windowList },
  rttMs: {
    flags: '--rtt-ms <ms>',
    description: "with --pipeline: round trip added to every connection to a replica, as if each were on a host of its own (default: 2; 0: plain loopback)",
    parse: integer(0, 1000),
  },
  rounds: { flags: '--rounds <n>', description: 'interleaved rounds of each comparison (default: 5; 2 with --smoke)', parse: integer(1, 100) },
} as const satisfies Settings;

/** Throws ConfigError for a bad command line, or with the help text (exit code 0) for --help. */
export function parseOptions(argv: string[]): ClusterBenchOptions {
  const command = new Command('npm run bench -- cluster').description('The whole cluster under HTTP load (bench/README.md says what each row measures).');
  const values = parseCommandLine(command, SETTINGS, argv);
  const { smoke, reshard } = values;
  if (!reshard && (values.reshardKeys !== undefined || values.migrationRate !== undefined || values.reshardSteps !== undefined)) {
    throw new ConfigError('--reshard-keys, --reshard-steps and --migration-rate go with --reshard');
  }
  if (reshard && values.rounds !== undefined) throw new ConfigError('--rounds does not go with --reshard');
  if ([reshard, values.against !== undefined, values.security, values.pipeline].filter(Boolean).length > 1) {
    throw new ConfigError('--reshard, --against, --security and --pipeline are different runs: give one');
  }
  if (!values.pipeline && (values.windows !== undefined || values.rttMs !== undefined)) throw new ConfigError('--windows and --rtt-ms go with --pipeline');
  const first = values.reshardSteps?.[0];
  if (first !== undefined && values.partitions !== undefined && values.partitions !== first) throw new ConfigError('--partitions must be the first of --reshard-steps');
  const partitions = values.partitions ?? first ?? (reshard ? 2 : 1);
  const durationS = values.duration ?? (smoke ? 1 : 10);
  const connections = values.connections ?? (smoke ? 8 : 64);
  const reshardKeys = values.reshardKeys ?? (smoke ? 1000 : 1_000_000);
  // The resharding load never has two requests out on one key: it needs keys to spare.
  if (reshard && reshardKeys < 4 * connections) throw new ConfigError(`--reshard-keys must be at least 4 per connection (${4 * connections})`);
  return {
    partitions,
    replicas: values.replicas ?? (smoke ? 2 : 3),
    replication: values.replication,
    fsync: values.fsync === 'on',
    memory: values.memory,
    durationS,
    scaleDurationS: Math.min(durationS, 5),
    connections,
    valueBytes: values.valueBytes,
    outDir: path.resolve(values.out ?? path.join(__dirname, '..', '..', '..', 'results')),
    smoke,
    cpuProfDir: values.cpuProf === undefined ? undefined : path.resolve(values.cpuProf),
    scaleKeys: values.scaleKeys ?? (smoke ? [2000] : [10_000, 1_000_000]),
    scaleConnections: smoke ? [1, 4] : [1, 8, 64, 256],
    hotKeys: smoke ? 100 : 1000,
    uniformKeys: smoke ? 1000 : 100_000,
    loaderConnections: smoke ? 16 : 256,
    etcd: !smoke,
    reshard,
    reshardKeys,
    reshardSteps: reshard ? (values.reshardSteps ?? [partitions, partitions + 1, partitions + 2, partitions + 1, partitions]) : [],
    migrationRate: values.migrationRate,
    against: values.against,
    security: values.security,
    pipeline: values.pipeline,
    windows: values.windows ?? [1, 4, 16],
    rttMs: values.rttMs ?? 2,
    rounds: values.rounds ?? (smoke ? 2 : 5),
  };
}

/** "1 partition × 3 replicas": the cluster's shape, for titles. */
export function describeShape(options: Pick<ClusterBenchOptions, 'partitions' | 'replicas'>): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(options.partitions, 'partition')} × ${plural(options.replicas, 'replica')}`;
}
