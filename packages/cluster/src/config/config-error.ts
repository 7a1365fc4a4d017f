/**
 * A command line or environment a program cannot run with (exit code 2), or
 * the help text it was asked for instead (exit code 0). The message is one
 * line (the help text excepted); main prints it and exits with exitCode.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    message: string,
    readonly exitCode: 0 | 2 = 2,
  ) {
    super(message);
  }
}
