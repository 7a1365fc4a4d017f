import type { KvClient } from '@kvstore/kvclient';
import type { ProgramIo } from './io';

/** What every command runs with, on the command line and in the shell alike. */
export interface CommandContext {
  io: ProgramIo;
  /** The client for the gates named on the command line, made on first use. */
  client(): KvClient;
  /** In the shell, stdin carries commands rather than a value, and every answer ends its line. */
  inShell: boolean;
}
