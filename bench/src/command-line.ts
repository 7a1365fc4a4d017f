import { configOrExit } from '@kvstore/cluster';

/**
 * Runs a bench script's command-line parser; when there is nothing to run, prints the
 * help text (exit 0) or `<program>: <refusal> (see --help)` (exit 2) and exits.
 */
export function parseOrExit<T>(program: string, parse: () => T): T {
  return configOrExit(program, parse, ' (see --help)');
}
