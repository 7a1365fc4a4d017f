import { ConfigError } from './config';
import { ClusterTls, TlsFilesError, type TlsFiles, type TlsLogger } from './tls/cluster-tls';
import { ClusterAuth, ClusterSecretError } from './wire/cluster-auth';

/** What the mains of kvserver and kvgate share: the exits docs/command-lines.md promises, and a clean stop on SIGTERM and SIGINT. */

/** Prints `<program>: <message>` on stderr and exits with exitCode. */
export function exitWith(program: string, message: string, exitCode: number): never {
  process.stderr.write(`${program}: ${message}\n`);
  process.exit(exitCode);
}

/**
 * Runs a command-line parser; when there is nothing to run, prints the help
 * text (exit 0) or `<program>: <refusal><refusalSuffix>` (exit 2) and exits.
 */
export function configOrExit<T>(program: string, parse: () => T, refusalSuffix = ''): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode !== 0) exitWith(program, `${error.message}${refusalSuffix}`, error.exitCode);
    process.stdout.write(error.message);
    process.exit(0);
  }
}

/** The cluster secret of `file`, or exit 2 saying what is wrong with it. */
export function clusterAuthOrExit(program: string, file: string): ClusterAuth {
  try {
    return ClusterAuth.fromFile(file);
  } catch (error) {
    if (error instanceof ClusterSecretError) exitWith(program, error.message, 2);
    throw error;
  }
}

/** The TLS of --tls-cert, --tls-key and --tls-ca (undefined without them), or exit 2 naming the file that is wrong. */
export function tlsOrExit(program: string, files: TlsFiles | undefined, logger: TlsLogger): ClusterTls | undefined {
  if (files === undefined) return undefined;
  try {
    return new ClusterTls(files, logger);
  } catch (error) {
    if (error instanceof TlsFilesError) exitWith(program, error.message, 2);
    throw error;
  }
}

export interface ShutdownLogger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * On the first SIGTERM or SIGINT: closes, then exits 0 (1 when closing
 * fails). A signal that comes while closing is ignored, so the close can finish.
 */
export function shutdownOnSignals(close: () => Promise<void>, logger: ShutdownLogger, message = 'shutting down'): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, message);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
