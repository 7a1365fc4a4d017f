/**
 * Gate-specific errors. Request failures use topology's KvError; only a bad
 * command line needs its own type, because it ends the process instead of
 * becoming an HTTP answer.
 */
export class ConfigError extends Error {
  /** 2 for bad usage; 0 when the "error" is the help text the user asked for. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'ConfigError';
    this.exitCode = exitCode;
  }
}
