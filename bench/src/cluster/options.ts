import * as path from 'node:path';

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
}

export const USAGE = `Usage: npm run bench -- cluster [flags]
  --partitions N           partitions (default 1)
  --replicas N             replicas per partition (default 3)
  --replication sync|async (default sync)
  --fsync on|off           (default on)
  --memory                 replicas without a data dir (default: a temp data dir each)
  --duration S             seconds per scenario (default 10)
  --connections N          concurrent connections of the load (default 64)
  --value-bytes N          value size (default 100)
  --scale-keys LIST        key counts of the scaling rows (default 10000,1000000)
  --out DIR                where the JSON and SVG go (default bench/results)
  --cpu-prof DIR           run gate and servers with --cpu-prof into DIR, print a summary after
  --smoke                  a tiny, quick run (1 partition x 2 replicas, 1 s rows, no etcd)`;

/** A bad flag: main prints one line and exits 2. */
export class UsageError extends Error {}

function positiveInt(flag: string, text: string | undefined, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} needs an integer from 1 to ${max}, not ${text ?? 'nothing'}`);
  return n;
}

function choice<T extends string>(flag: string, text: string | undefined, choices: readonly T[]): T {
  const found = choices.find((candidate) => candidate === text);
  if (found === undefined) throw new UsageError(`${flag} must be ${choices.join(' or ')}, not ${text ?? 'nothing'}`);
  return found;
}

function required(flag: string, text: string | undefined): string {
  if (!text) throw new UsageError(`${flag} needs a value`);
  return text;
}

/** Parses the flags; undefined for --help. Throws UsageError on anything else it does not know. */
export function parseOptions(argv: string[]): ClusterBenchOptions | undefined {
  const given = new Map<string, string | undefined>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return undefined;
    if (flag === '--memory' || flag === '--smoke') given.set(flag, '');
    else if (/^--(partitions|replicas|replication|fsync|duration|connections|value-bytes|scale-keys|out|cpu-prof)$/.test(flag)) given.set(flag, argv[++i]);
    else throw new UsageError(`unknown argument ${flag}`);
  }
  const smoke = given.has('--smoke');
  const value = (flag: string, fallback: string): string | undefined => (given.has(flag) ? given.get(flag) : fallback);
  const durationText = value('--duration', smoke ? '1' : '10');
  const durationS = Number(durationText);
  if (!(durationS > 0 && durationS <= 3600)) throw new UsageError(`--duration needs seconds from 0 to 3600, not ${durationText ?? 'nothing'}`);
  const scaleKeys = required('--scale-keys', value('--scale-keys', smoke ? '2000' : '10000,1000000'))
    .split(',')
    .map((text) => positiveInt('--scale-keys', text, 100_000_000));
  const cpuProf = given.get('--cpu-prof');
  return {
    partitions: positiveInt('--partitions', value('--partitions', '1'), 64),
    replicas: positiveInt('--replicas', value('--replicas', smoke ? '2' : '3'), 9),
    replication: choice('--replication', value('--replication', 'sync'), ['sync', 'async'] as const),
    fsync: choice('--fsync', value('--fsync', 'on'), ['on', 'off'] as const) === 'on',
    memory: given.has('--memory'),
    durationS,
    scaleDurationS: Math.min(durationS, 5),
    connections: positiveInt('--connections', value('--connections', smoke ? '8' : '64'), 10_000),
    valueBytes: positiveInt('--value-bytes', value('--value-bytes', '100'), 1024 * 1024),
    outDir: path.resolve(required('--out', value('--out', path.join(__dirname, '..', '..', '..', 'results')))),
    smoke,
    cpuProfDir: given.has('--cpu-prof') ? path.resolve(required('--cpu-prof', cpuProf)) : undefined,
    scaleKeys: [...new Set(scaleKeys)].sort((a, b) => a - b),
    scaleConnections: smoke ? [1, 4] : [1, 8, 64, 256],
    hotKeys: smoke ? 100 : 1000,
    uniformKeys: smoke ? 1000 : 100_000,
    loaderConnections: smoke ? 16 : 256,
    etcd: !smoke,
  };
}

/** "1 partition × 3 replicas": the cluster's shape, for titles. */
export function describeShape(options: Pick<ClusterBenchOptions, 'partitions' | 'replicas'>): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(options.partitions, 'partition')} × ${plural(options.replicas, 'replica')}`;
}
