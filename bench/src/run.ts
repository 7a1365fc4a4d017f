/**
 * `npm run bench [-- <suite> ...] [--quick] [options]`: runs the named
 * benchmark suites in order, or every suite but `reshard`, `compare` and
 * `pipeline` when none is named. Each step is
 * a script run in its own Node process (a fresh heap and LMDB environment per
 * step); flags are passed to the steps that take them. Exits non-zero as
 * soon as a step fails.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseCommandLine, text, type Settings } from '@kvstore/cluster';
import { Argument, Command } from 'commander';
import { parseOrExit } from './command-line';

interface Step {
  /** A compiled script next to this one. */
  script: string;
  /** Arguments it always gets, before the flags given. */
  args?: string[];
  /** The flags it understands, and whether each takes a value. */
  flags: Record<string, 'switch' | 'value'>;
}

interface Suite {
  description: string;
  steps: Step[];
  /** Left out when no suite is named (it takes long). */
  onlyWhenNamed?: true;
}

/** The flags of cluster/main.js, the cluster suite's and the reshard suite's. */
const CLUSTER_FLAGS = {
  '--partitions': 'value',
  '--replicas': 'value',
  '--replication': 'value',
  '--fsync': 'value',
  '--memory': 'switch',
  '--duration': 'value',
  '--connections': 'value',
  '--value-bytes': 'value',
  '--out': 'value',
  '--cpu-prof': 'value',
  '--smoke': 'switch',
} as const satisfies Step['flags'];

/** The flags of the suites that compare in interleaved rounds (cluster, compare, security, pipeline). */
const ROUNDS_FLAGS = { ...CLUSTER_FLAGS, '--rounds': 'value' } as const satisfies Step['flags'];

/** The suites, in the order `npm run bench` runs them. */
const SUITES: Record<string, Suite> = {
  cluster: {
    description:
      'the whole cluster under HTTP load (autocannon): baselines, gate, leader, replication and fsync variants, scaling, etcd; then gate GET against the Map server and gate PUT against etcd in interleaved rounds (--rounds)',
    steps: [
      {
        script: 'cluster/main.js',
        flags: { ...ROUNDS_FLAGS, '--scale-keys': 'value' },
      },
    ],
  },
  reshard: {
    description:
      'growing a loaded cluster by partitions and shrinking it back under a mixed load: per step, migration time and rate, client throughput, latency and errors; then every key read back (only when named)',
    steps: [{ script: 'cluster/main.js', args: ['--reshard'], flags: { ...CLUSTER_FLAGS, '--reshard-keys': 'value', '--reshard-steps': 'value', '--migration-rate': 'value' } }],
    onlyWhenNamed: true,
  },
  compare: {
    description:
      'this checkout against another commit (--against <rev>, built in a temp worktree): both clusters up side by side, interleaved rounds (--rounds) of gate GET and PUT; median ratio, spread, CPU per 10k requests (only when named)',
    steps: [{ script: 'cluster/main.js', flags: { ...ROUNDS_FLAGS, '--against': 'value' } }],
    onlyWhenNamed: true,
  },
  security: {
    description:
      'what --auth on and TLS cost on the data path: plain, auth, tls and auth+tls clusters of this build side by side, interleaved rounds (--rounds) of gate GET and PUT; median ratio against plain, spread, CPU per 10k requests',
    steps: [{ script: 'cluster/main.js', args: ['--security'], flags: ROUNDS_FLAGS }],
  },
  pipeline: {
    description:
      'what several appends in flight per follower buy when replicas are far: a cluster per --windows value of --appends-in-flight, each replica --rtt-ms away, side by side, interleaved rounds (--rounds) of gate PUT against the first (only when named)',
    steps: [{ script: 'cluster/main.js', args: ['--pipeline'], flags: { ...ROUNDS_FLAGS, '--windows': 'value', '--rtt-ms': 'value' } }],
    onlyWhenNamed: true,
  },
  storage: {
    description: "the replica's storage layer (puts, gets, restart, disk use), then the LevelDB vs LMDB engine comparison",
    steps: [
      { script: 'storage.js', flags: { '--quick': 'switch', '--keys': 'value', '--value-bytes': 'value', '--out': 'value' } },
      { script: 'storage-engines.js', flags: { '--quick': 'switch', '--keys': 'value' } },
    ],
  },
};

/** Every step's flag, taken as text (the step that takes it checks it), described by the steps that take it. */
const SETTINGS: Settings = (() => {
  const steps = Object.values(SUITES).flatMap((suite) => suite.steps);
  const flags = new Set(steps.flatMap((step) => Object.keys(step.flags)));
  return Object.fromEntries(
    [...flags].map((flag) => {
      const takers = steps.filter((step) => flag in step.flags);
      const description = `for ${[...new Set(takers.map((step) => step.script))].join(', ')}`;
      return [flag, takers[0]!.flags[flag] === 'switch' ? { flags: flag, description } : { flags: `${flag} <value>`, description, parse: text }];
    }),
  );
})();

const SUITES_HELP = ['', 'Suites:', ...Object.entries(SUITES).map(([name, suite]) => `  ${name.padEnd(10)} ${suite.description}`), '', 'A step says what its flags mean: node bench/dist/src/<script> --help'].join('\n');

interface Plan {
  suites: string[];
  /** What each flag given was given: a value, or true for a switch. */
  flags: Record<string, unknown>;
}

/** Throws ConfigError for a bad command line, or with the help text (exit code 0) for --help. */
function parse(argv: string[]): Plan {
  const command = new Command('npm run bench --')
    .description('Runs the named benchmark suites in order (no suite: all of them but reshard, compare and pipeline), passing each step the flags it takes.')
    .addArgument(new Argument('[suites...]', 'suites to run').choices(Object.keys(SUITES)))
    .addHelpText('after', SUITES_HELP);
  const flags = parseCommandLine(command, SETTINGS, argv);
  const everyDefault = Object.keys(SUITES).filter((name) => !SUITES[name]!.onlyWhenNamed);
  return { suites: command.args.length > 0 ? command.args : everyDefault, flags };
}

function runStep(step: Step, plan: Plan): Promise<number> {
  const args = [
    ...(step.args ?? []),
    ...Object.keys(step.flags).flatMap((flag) => {
      const value = plan.flags[flag];
      if (value === undefined || value === false) return [];
      return typeof value === 'string' ? [flag, value] : [flag];
    }),
  ];
  const script = path.join(__dirname, step.script);
  console.log(`\n=== ${step.script} ${args.join(' ')}`.trimEnd());
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    child.on('error', (error) => {
      console.error(`bench: could not start ${step.script}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const plan = parseOrExit('bench', () => parse(process.argv.slice(2)));
  for (const name of plan.suites) {
    for (const step of SUITES[name]!.steps) {
      const code = await runStep(step, plan);
      if (code !== 0) {
        console.error(`bench: ${name}: ${step.script} failed (exit ${code})`);
        return code;
      }
    }
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
