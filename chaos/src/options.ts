import * as path from 'node:path';

export const FAULT_KINDS = ['kill', 'pause', 'gate', 'zk', 'partition', 'forge'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  /** Seconds of workload under faults. */
  durationS: number;
  seed: number;
  faults: FaultKind[];
  concurrency: number;
  keys: number;
  out: string;
  sessionTimeoutMs: number;
  /** Lock clients (locks.ts); 0: none. */
  lockClients: number;
  /** Every server's --replication. */
  replication: 'sync' | 'async';
  /** Each server's clock is off by a seeded amount in [−clockSkewMs, +clockSkewMs]. */
  clockSkewMs: number;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run chaos -- [options]

Starts a private cluster (ZooKeeper, 2 partitions x 3 replicas with data dirs,
2 gates, a TCP proxy on every replica's links, a cluster secret), runs a
workload of reads, writes and compare-and-sets, and lock clients that race
If-None-Match / If-Match / TTL'd writes right after every fault, while a
nemesis injects faults; heals everything, reads every key back and checks the
history (linearizability per key with TTL expiry, lost acknowledged writes,
stale reads, values never written, forged requests accepted, availability).

  --duration <s>          seconds of workload under faults (default 60)
  --seed <n>              seed of every random choice (default: from the clock; printed)
  --faults <list>         comma-separated, of kill,pause,gate,zk,partition,forge (default all);
                          "none" for none
  --concurrency <n>       client processes (default 16)
  --keys <n>              distinct keys, few so that they are contended (default 200)
  --lock-clients <n>      clients racing on lock and TTL keys after each fault (default 6; 0: none)
  --replication <mode>    sync or async, every server's --replication (default sync); in async
                          mode acknowledged writes may be lost, strong reads must stay linearizable
  --clock-skew-ms <ms>    each server's clock is off by a seeded amount within +-ms (default 0);
                          the TTL check allows 2 x ms + 1 s
  --out <dir>             where history.json, report.json, timeline.svg and logs go
                          (default chaos/results/<iso time>/)
  --session-timeout <ms>  the servers' and gates' ZooKeeper session timeout (default 2000)
  --help                  this text

Exit code: 0 when no acknowledged write was lost (sync mode), no history is
non-linearizable, no read returned a value never written and no forged request
was accepted; 1 otherwise; 2 on bad usage; 3 when the run itself failed.`;

function integer(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${raw}`);
  return value;
}

export function parseOptions(argv: readonly string[], repoRoot: string, now = new Date()): ChaosOptions {
  const options: ChaosOptions = {
    durationS: 60,
    seed: now.getTime() % 1_000_000,
    faults: [...FAULT_KINDS],
    concurrency: 16,
    keys: 200,
    out: '',
    sessionTimeoutMs: 2000,
    lockClients: 6,
    replication: 'sync',
    clockSkewMs: 0,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--duration':
        options.durationS = integer(flag, value(), 1, 86_400);
        break;
      case '--seed':
        options.seed = integer(flag, value(), 0, 0xffffffff);
        break;
      case '--concurrency':
        options.concurrency = integer(flag, value(), 1, 1024);
        break;
      case '--keys':
        options.keys = integer(flag, value(), 1, 1_000_000);
        break;
      case '--session-timeout':
        options.sessionTimeoutMs = integer(flag, value(), 1000, 30_000);
        break;
      case '--lock-clients':
        options.lockClients = integer(flag, value(), 0, 64);
        break;
      case '--clock-skew-ms':
        options.clockSkewMs = integer(flag, value(), 0, 60_000);
        break;
      case '--replication': {
        const mode = value();
        if (mode !== 'sync' && mode !== 'async') throw new UsageError(`--replication must be sync or async, got "${mode ?? ''}"`);
        options.replication = mode;
        break;
      }
      case '--out': {
        const out = value();
        if (!out) throw new UsageError('--out needs a directory');
        options.out = path.resolve(out);
        break;
      }
      case '--faults': {
        const raw = value();
        if (raw === undefined) throw new UsageError('--faults needs a list');
        const names = raw === 'none' || raw === '' ? [] : raw.split(',').map((name) => name.trim());
        const unknown = names.filter((name) => !(FAULT_KINDS as readonly string[]).includes(name));
        if (unknown.length > 0) throw new UsageError(`--faults: unknown fault ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
        options.faults = [...new Set(names)] as FaultKind[];
        break;
      }
      default:
        throw new UsageError(`unknown argument "${arg}" (see --help)`);
    }
  }
  if (!options.out) options.out = path.join(repoRoot, 'chaos', 'results', now.toISOString().replace(/:/g, '-'));
  return options;
}
