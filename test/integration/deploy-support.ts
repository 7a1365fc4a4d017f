import { spawnSync } from 'node:child_process';
import { programMain } from '@kvstore/testkit/harness';

/** What a program's own `--help` says it takes: its long flags and their environment variables. */
export interface ProgramHelp {
  flags: Set<string>;
  env: Set<string>;
}

const helps = new Map<string, ProgramHelp>();

/** kvserver's or kvgate's `--help`, run once per test process, read for its flags and variables. */
export function programHelp(program: 'kvserver' | 'kvgate'): ProgramHelp {
  let help = helps.get(program);
  if (help === undefined) {
    const result = spawnSync(process.execPath, [programMain(program), '--help'], { encoding: 'utf8', timeout: 10_000 });
    if (result.status !== 0) throw new Error(`${program} --help exited ${String(result.status)}: ${result.stderr}`);
    help = {
      flags: new Set([...result.stdout.matchAll(/^\s+(--[a-z][a-z-]*)/gm)].map((match) => match[1] as string)),
      env: new Set([...result.stdout.matchAll(/\benv\s+(KV_[A-Z_]+)/g)].map((match) => match[1] as string)),
    };
    helps.set(program, help);
  }
  return help;
}
