import type { KvClient } from '@kvstore/kvclient';
import type { ProgramIo } from './io';
import { render, type OutputFormat, type Rendering } from './output';

/** What every command runs with, on the command line and in the shell alike. */
export interface CommandContext {
  io: ProgramIo;
  /** The client for the gates named on the command line, made on first use. */
  client(): KvClient;
  /** In the shell, stdin carries commands rather than a value, and every answer ends its line. */
  inShell: boolean;
  /** The --output of this command line; undefined: the command's own default. */
  output(): OutputFormat | undefined;
  /** Writes a result to stdout in the chosen format (output.ts). */
  print<T>(value: T, rendering: Rendering<T>): void;
}

/** A context whose output goes through `output()`, read when a command prints (after its line is parsed). */
export function createContext(
  base: Pick<CommandContext, 'io' | 'client' | 'inShell'>,
  output: () => OutputFormat | undefined,
): CommandContext {
  return {
    ...base,
    output,
    print: (value, rendering) => void base.io.stdout.write(render(value, rendering, output())),
  };
}
