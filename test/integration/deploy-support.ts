import { spawnSync } from 'node:child_process';
import { programMain } from '@kvstore/testkit/harness';

/** One option of a program's `--help`: its variable, and its default when the help shows one. */
export interface HelpOption {
  env: string;
  fallback: string | undefined;
}

/** What a program's own `--help` says it takes: its long flags (`--help` aside) and their environment variables. */
export interface ProgramHelp {
  options: ReadonlyMap<string, HelpOption>;
  flags: Set<string>;
  env: Set<string>;
}

const helps = new Map<string, ProgramHelp>();

/** Reads the options of a commander help text; an option without its variable throws. */
function parseHelp(text: string): ProgramHelp {
  const options = new Map<string, HelpOption>();
  // An option starts at a line indented by two; its description wraps onto deeper lines.
  for (const block of text.split(/\n(?=  -)/).slice(1)) {
    const flag = /^ {2}(?:-\w, )?(--[a-z][a-z-]*)/.exec(block)?.[1];
    if (flag === undefined || flag === '--help') continue;
    const env = /\benv\s+(KV_[A-Z_]+)/.exec(block)?.[1];
    if (env === undefined) throw new Error(`${flag} names no variable in --help`);
    options.set(flag, { env, fallback: /\(default:\s+"([^"]*)"\)/.exec(block)?.[1] });
  }
  return { options, flags: new Set(options.keys()), env: new Set([...options.values()].map((option) => option.env)) };
}

/** kvserver's or kvgate's `--help`, run once per test process, read for its flags, variables and defaults. */
export function programHelp(program: 'kvserver' | 'kvgate'): ProgramHelp {
  let help = helps.get(program);
  if (help === undefined) {
    const result = spawnSync(process.execPath, [programMain(program), '--help'], { encoding: 'utf8', timeout: 10_000 });
    if (result.status !== 0) throw new Error(`${program} --help exited ${String(result.status)}: ${result.stderr}`);
    help = parseHelp(result.stdout);
    helps.set(program, help);
  }
  return help;
}
