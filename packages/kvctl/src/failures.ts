/**
 * Exit codes (docs/command-lines.md, "kvctl") and the one line printed for a
 * failure. Every way a command can fail is mapped here and nowhere else.
 */
import { CommanderError } from 'commander';
import { KvError, type ErrorCode } from '@kvstore/kvclient';

export const EXIT = {
  OK: 0,
  NOT_FOUND: 1,
  /** `health` found a process or partition not ready; like NOT_FOUND, the answer is "no" rather than a failure to ask. */
  NOT_READY: 1,
  USAGE: 2,
  UNAVAILABLE: 3,
  REFUSED: 4,
  /** The gate wants a token (401) or the token lacks the role (403). */
  DENIED: 5,
  /** A bug in kvctl itself (sysexits' EX_SOFTWARE). */
  SOFTWARE: 70,
} as const;

/** A mistake in how kvctl was called that commander cannot see (a missing value, an unreadable --file). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A backup file that restore will not use (not one, cut short, changed): refused before anything is written. */
export class BackupFileError extends Error {
  override readonly name = 'BackupFileError';
}

/** A migration that `migration status --watch` followed ended aborted: what the caller waited for did not happen. */
export class MigrationAbortedError extends Error {
  override readonly name = 'MigrationAbortedError';
}

/** `kvctl health` found something not ready (its table says what). */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  NOT_FOUND: EXIT.NOT_FOUND,
  BAD_REQUEST: EXIT.REFUSED,
  UNAUTHORIZED: EXIT.REFUSED,
  UNAUTHENTICATED: EXIT.DENIED,
  FORBIDDEN: EXIT.DENIED,
  PRECONDITION_FAILED: EXIT.REFUSED,
  CONFLICT: EXIT.REFUSED,
  PAYLOAD_TOO_LARGE: EXIT.REFUSED,
  UNAVAILABLE: EXIT.UNAVAILABLE,
  TIMEOUT: EXIT.UNAVAILABLE,
  TOO_MANY_REQUESTS: EXIT.UNAVAILABLE,
  // A gate retries these itself; one reaching kvctl means the cluster could not serve the key right now.
  NOT_LEADER: EXIT.UNAVAILABLE,
  WRONG_PARTITION: EXIT.UNAVAILABLE,
  INTERNAL: EXIT.UNAVAILABLE,
};

/** node's codes for a TLS peer whose chain does not lead to a trusted CA. */
const UNTRUSTED_CERTIFICATE = /SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/;

/** Commander's ways of ending a run that are not failures. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

export interface Failure {
  exitCode: number;
  /** The line for stderr, without its newline; null when there is nothing to say. */
  line: string | null;
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof CommanderError) {
    // 'commander.help' with a non-zero exit code is help shown for a command given without its subcommand.
    if (COMMANDER_SUCCESS.has(error.code) || error.exitCode === 0) return { exitCode: EXIT.OK, line: null };
    const message = error.code === 'commander.help' ? 'missing command' : error.message.replace(/^error: /, '');
    return usage(message);
  }
  if (error instanceof UsageError) return usage(error.message);
  if (error instanceof BackupFileError) return { exitCode: EXIT.REFUSED, line: oneLine(`BAD_BACKUP: ${error.message}`) };
  if (error instanceof NotReadyError) return { exitCode: EXIT.NOT_READY, line: oneLine(`NOT_READY: ${error.message}`) };
  if (error instanceof MigrationAbortedError) return { exitCode: EXIT.REFUSED, line: oneLine(`ABORTED: ${error.message}`) };
  if (error instanceof KvError) {
    const hint = UNTRUSTED_CERTIFICATE.test(error.message) ? ": the gate's certificate is not trusted: give --cacert <the cluster's CA> (or KV_CACERT)" : '';
    return { exitCode: EXIT_BY_CODE[error.code], line: oneLine(`${error.code}: ${error.message}${hint}`) };
  }
  const message = error instanceof Error ? error.stack ?? error.message : String(error);
  return { exitCode: EXIT.SOFTWARE, line: oneLine(`BUG: ${message}`) };
}

function usage(message: string): Failure {
  return { exitCode: EXIT.USAGE, line: oneLine(`USAGE: ${message}`) };
}

function oneLine(text: string): string {
  return `kvctl: ${text.replace(/\s*\n\s*/g, ' ').trim()}`;
}
