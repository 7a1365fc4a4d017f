import * as path from 'node:path';
import { ConfigError, choice, filePath, integer, parseCommandLine, type Settings, type ValueParser } from '@kvstore/cluster';
import { Command, InvalidArgumentError } from 'commander';

export const FAULT_KINDS = ['kill', 'pause', 'gate', 'zk', 'zk-member', 'partition', 'forge', 'lag-kill', 'reshard', 'transfer', 'maintenance'] as const;
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
  /** ZooKeeper members: 1 (a standalone server) or an ensemble; zk-member needs 3 or more. */
  zkEnsemble: number;
}

/** The smallest ensemble that keeps a majority with one member down. */
const ZK_MEMBER_MIN_ENSEMBLE = 3;

/** Comma-separated fault kinds, each once; "none" (or nothing) for none. */
const faultList: ValueParser<FaultKind[]> = (raw) => {
  const names = raw === 'none' || raw === '' ? [] : raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(FAULT_KINDS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new InvalidArgumentError(`names an unknown fault ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
  return [...new Set(names)] as FaultKind[];
};

const SETTINGS = {
  duration: { flags: '--duration <s>', description: 'seconds of workload under faults', parse: integer(1, 86_400), default: '60' },
  seed: { flags: '--seed <n>', description: 'seed of every random choice (default: from the clock; printed)', parse: integer(0, 0xffffffff) },
  faults: {
    flags: '--faults <list>',
    description: `comma-separated, of ${FAULT_KINDS.join(',')} (default: all); "none" for none`,
    parse: faultList,
  },
  concurrency: { flags: '--concurrency <n>', description: 'client processes', parse: integer(1, 1024), default: '16' },
  keys: { flags: '--keys <n>', description: 'distinct keys, few so that they are contended', parse: integer(1, 1_000_000), default: '200' },
  lockClients: { flags: '--lock-clients <n>', description: 'clients racing on lock and TTL keys after each fault (0: none)', parse: integer(0, 64), default: '6' },
  replication: {
    flags: '--replication <mode>',
    description: "sync or async, every server's --replication; in async mode acknowledged writes may be lost, strong reads must stay linearizable",
    parse: choice(['sync', 'async']),
    default: 'sync',
  },
  clockSkewMs: {
    flags: '--clock-skew-ms <ms>',
    description: "each server's clock is off by a seeded amount within +-ms; the TTL check allows 2 x ms + 1 s",
    parse: integer(0, 60_000),
    default: '0',
  },
  zkEnsemble: {
    flags: '--zk-ensemble <n>',
    description: `ZooKeeper members on loopback (default: ${ZK_MEMBER_MIN_ENSEMBLE} when the zk-member fault is on, else 1, a standalone server)`,
    parse: integer(1, 7),
  },
  out: { flags: '--out <dir>', description: 'where history.json, report.json, timeline.svg and logs go (default: chaos/results/<iso time>/)', parse: filePath },
  sessionTimeout: { flags: '--session-timeout <ms>', description: "the servers' and gates' ZooKeeper session timeout", parse: integer(1000, 30_000), default: '2000' },
} as const satisfies Settings;

const DESCRIPTION = `Starts a private cluster (ZooKeeper or an ensemble, 2 partitions x 3 replicas with data dirs,
2 gates, a TCP proxy on every replica's links, a cluster secret), runs a
workload of reads, writes and compare-and-sets, and lock clients that race
If-None-Match / If-Match / TTL'd writes right after every fault, while a
nemesis injects faults; heals everything, reads every key back and checks the
history (linearizability per key with TTL expiry, lost acknowledged writes,
stale reads, values never written, forged requests accepted, availability).`;

const FAULTS = `
Faults (--faults), one at a time, each healed after a few seconds:
  kill       SIGKILL of a replica (the leader 70% of the time); restarted after 1-4 s
  pause      SIGSTOP of a leader until its ZooKeeper session expired; SIGCONT
  gate       SIGKILL of a gate; restarted after 1.5-4 s
  zk         ZooKeeper stopped for 2-5 s (every member of an ensemble)
  zk-member  one ZooKeeper ensemble member SIGKILLed (its leader 70% of the
             time: the others elect a new one); restarted after 2-5 s
  partition  a replica (leader 70%) cut off from peers, gates and ZooKeeper
  forge      internal requests to a replica without the cluster secret
  lag-kill   the leader's followers' inbound links lag 150-250 ms; the leader is
             SIGKILLed right after its next acknowledged lock write, before its
             followers learn that write's commit point; lock clients race on
             that key at the new leader; lag removed and leader restarted after
             session timeout + 1-3 s
  reshard    a partition is removed by an online migration (its slots move to
             the others under load), then added back (they move again); a
             removal still running after 60 s is aborted instead
  transfer   a planned leader transfer (kvctl cluster leader-transfer) to a
             follower under load: no acknowledged write lost, no client error
  maintenance a follower taken out of the in-sync set (kvctl cluster
             remove-member) for 2-5 s, then restored
`;

const EXIT_CODES = `
Exit code: 0 when no acknowledged write was lost (sync mode), no history is
non-linearizable, no read returned a value never written and no forged request
was accepted; 1 otherwise; 2 on bad usage; 3 when the run itself failed.`;

/** Throws ConfigError for a bad command line, or with the help text (exit code 0) for --help. */
export function parseOptions(argv: readonly string[], repoRoot: string, now = new Date()): ChaosOptions {
  const command = new Command('npm run chaos --').description(DESCRIPTION).addHelpText('after', FAULTS + EXIT_CODES);
  const values = parseCommandLine(command, SETTINGS, argv);
  const faults = values.faults ?? [...FAULT_KINDS];
  const zkEnsemble = values.zkEnsemble ?? (faults.includes('zk-member') ? ZK_MEMBER_MIN_ENSEMBLE : 1);
  if (faults.includes('zk-member') && zkEnsemble < ZK_MEMBER_MIN_ENSEMBLE) {
    throw new ConfigError(`--faults zk-member needs --zk-ensemble ${ZK_MEMBER_MIN_ENSEMBLE} or more: with ${zkEnsemble}, one member down leaves no majority`, 2);
  }
  return {
    durationS: values.duration,
    seed: values.seed ?? now.getTime() % 1_000_000,
    faults,
    concurrency: values.concurrency,
    keys: values.keys,
    out: values.out === undefined ? path.join(repoRoot, 'chaos', 'results', now.toISOString().replace(/:/g, '-')) : path.resolve(values.out),
    sessionTimeoutMs: values.sessionTimeout,
    lockClients: values.lockClients,
    replication: values.replication,
    clockSkewMs: values.clockSkewMs,
    zkEnsemble,
  };
}
