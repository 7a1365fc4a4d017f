/** Settings every command tree of kvctl shares, on the command line and in the shell. */
import type { Command } from 'commander';
import type { ProgramIo } from './io';

/**
 * Commander must neither exit the process nor print errors itself: errors
 * are thrown to the caller, which prints one line and picks the exit code.
 * Help asked for goes to stdout; help that commander would print on a usage
 * error is dropped for that same one-line rule.
 */
export function configureCommand(command: Command, io: ProgramIo): Command {
  return command
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: () => undefined,
      outputError: () => undefined,
    })
    .exitOverride();
}
