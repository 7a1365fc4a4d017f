import { ConfigError } from '@kvstore/cluster';

/**
 * Runs a bench script's command-line parser; when there is nothing to run, prints the
 * help text (exit 0) or `<program>: <refusal> (see --help)` (exit 2) and exits.
 */
export function parseOrExit<T>(program: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode === 0) process.stdout.write(error.message);
    else process.stderr.write(`${program}: ${error.message} (see --help)\n`);
    process.exit(error.exitCode);
  }
}
