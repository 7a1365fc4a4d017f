/**
 * `npm run bench [-- <suite> ...] [--quick] [options]`: runs the named
 * benchmark suites in order, or every suite when none is named. Each step is
 * a script run in its own Node process (a fresh heap and LMDB environment per
 * step); flags are passed to the steps that take them. Exits non-zero as
 * soon as a step fails.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

interface Step {
  /** A compiled script next to this one. */
  script: string;
  /** The flags it understands, and whether each takes a value. */
  flags: Record<string, 'switch' | 'value'>;
}

interface Suite {
  description: string;
  steps: Step[];
}

/** The suites, in the order `npm run bench` runs them. */
const SUITES: Record<string, Suite> = {
  cluster: {
    description: 'the whole cluster under HTTP load (autocannon): baselines, gate, leader, replication and fsync variants, scaling, etcd',
    steps: [
      {
        script: 'cluster/main.js',
        flags: {
          '--partitions': 'value',
          '--replicas': 'value',
          '--replication': 'value',
          '--fsync': 'value',
          '--memory': 'switch',
          '--duration': 'value',
          '--connections': 'value',
          '--value-bytes': 'value',
          '--scale-keys': 'value',
          '--out': 'value',
          '--cpu-prof': 'value',
          '--smoke': 'switch',
        },
      },
    ],
  },
  storage: {
    description: "the replica's storage layer (puts, gets, restart, disk use), then the LevelDB vs LMDB engine comparison",
    steps: [
      { script: 'storage.js', flags: { '--quick': 'switch', '--keys': 'value', '--value-bytes': 'value', '--out': 'value' } },
      { script: 'storage-engines.js', flags: { '--quick': 'switch', '--keys': 'value' } },
    ],
  },
};

function usage(): string {
  const names = Object.entries(SUITES).map(([name, suite]) => `  ${name.padEnd(10)} ${suite.description}`);
  const flags = [...new Set(Object.values(SUITES).flatMap((suite) => suite.steps.flatMap((step) => Object.keys(step.flags))))];
  return [
    'Usage: npm run bench [-- <suite> ...] [flags]   (no suite: all of them)',
    'Suites:',
    ...names,
    `Flags (passed to the steps that take them): ${flags.join(' ')}`,
  ].join('\n');
}

interface Plan {
  suites: string[];
  flags: Array<{ flag: string; value?: string }>;
}

function parse(argv: string[]): Plan | string {
  const known = new Map<string, 'switch' | 'value'>();
  for (const suite of Object.values(SUITES)) for (const step of suite.steps) for (const [flag, kind] of Object.entries(step.flags)) known.set(flag, kind);
  const plan: Plan = { suites: [], flags: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('-')) {
      const kind = known.get(arg);
      if (!kind) return `unknown flag ${arg}`;
      if (kind === 'switch') plan.flags.push({ flag: arg });
      else {
        const value = argv[++i];
        if (value === undefined) return `${arg} needs a value`;
        plan.flags.push({ flag: arg, value });
      }
    } else if (arg in SUITES) plan.suites.push(arg);
    else return `unknown suite ${arg}`;
  }
  if (plan.suites.length === 0) plan.suites = Object.keys(SUITES);
  return plan;
}

function runStep(step: Step, plan: Plan): Promise<number> {
  const args = plan.flags.filter(({ flag }) => flag in step.flags).flatMap(({ flag, value }) => (value === undefined ? [flag] : [flag, value]));
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
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const plan = parse(argv);
  if (typeof plan === 'string') {
    console.error(`bench: ${plan}\n${usage()}`);
    return 2;
  }
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
