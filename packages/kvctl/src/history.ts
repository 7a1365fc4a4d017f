/**
 * The shell's history file, one command per line, oldest first. History is a
 * convenience: a file that cannot be read or written never stops the shell.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Lines kept in the file and offered by the shell. */
export const HISTORY_LIMIT = 1000;

export function historyPath(env: NodeJS.ProcessEnv): string {
  return env.KVCTL_HISTORY || join(env.HOME || homedir(), '.kvctl_history');
}

/** The last HISTORY_LIMIT lines, newest first as readline wants them; trims the file to that bound. */
export function loadHistory(file: string): string[] {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0);
  } catch {
    return [];
  }
  if (lines.length > HISTORY_LIMIT) {
    lines = lines.slice(-HISTORY_LIMIT);
    ignoreFailure(() => writeFileSync(file, `${lines.join('\n')}\n`));
  }
  return lines.reverse();
}

export function appendHistory(file: string, line: string): void {
  ignoreFailure(() => appendFileSync(file, `${line}\n`));
}

function ignoreFailure(action: () => void): void {
  try {
    action();
  } catch {
    // See the file comment: history must not break the shell.
  }
}
