/**
 * The commands (put, get, delete, cluster status and changes, migration,
 * backup, restore, health), shared by the command line and the shell so both accept
 * exactly the same syntax.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { addBackupCommands } from './backup';
import type { CommandContext } from './context';
import { UsageError } from './failures';
import { addHealthCommand } from './health';
import { readAll } from './io';
import { addMemberCommands } from './member-commands';
import { addClusterChangeCommands, addMigrationCommands } from './migration-commands';
import { positiveInteger, version } from './parsers';
import { CLUSTER, DELETE, GET, PUT } from './renderings';
import { addUserCommands } from './user-commands';

export function addDataCommands(parent: Command, context: CommandContext): void {
  addPut(parent, context);
  addGet(parent, context);
  addDelete(parent, context);
  const cluster = parent.command('cluster').description('cluster information');
  cluster
    .command('status')
    .description('partitions, their slots, leaders, in-sync sets and replication lag; the migration, if any')
    .action(async () => context.print(await context.client().cluster(), CLUSTER));
  addClusterChangeCommands(cluster, context);
  addMemberCommands(cluster, context);
  addMigrationCommands(parent, context);
  addBackupCommands(parent, context);
  addHealthCommand(parent, context);
  addUserCommands(parent, context);
}

interface PutFlags {
  file?: string;
  ttl?: number;
  ifMatch?: number;
  ifNoneMatch?: boolean;
}

function addPut(parent: Command, context: CommandContext): void {
  parent
    .command('put')
    .description('store a value and print its version')
    .argument('<key>')
    .argument('[value]', "the value; '-' or nothing reads --file or piped stdin")
    .option('--file <path>', 'read the value from a file')
    .option('--ttl <seconds>', 'expire the key after this many seconds', positiveInteger)
    .option('--if-match <version>', 'store only if the current version is this one', version)
    .option('--if-none-match', 'store only if the key is absent')
    .action(async (key: string, value: string | undefined, flags: PutFlags) => {
      const bytes = await readValue(value, flags.file, context);
      const result = await context
        .client()
        .put(key, bytes, { ttlSeconds: flags.ttl, ifMatch: flags.ifMatch, ifNoneMatch: flags.ifNoneMatch });
      context.print(result, PUT);
    });
}

function addGet(parent: Command, context: CommandContext): void {
  parent
    .command('get')
    .description("write a value's exact bytes to stdout (with --output: key, version, partition, replica and value)")
    .argument('<key>')
    .addOption(
      new Option('--consistency <level>', 'read from the leader or any replica').choices(['strong', 'eventual']),
    )
    .action(async (key: string, flags: { consistency?: 'strong' | 'eventual' }) => {
      const result = await context.client().get(key, { consistency: flags.consistency });
      const { stdout, isTTY } = context.io;
      if (context.output() !== undefined) return context.print(result, GET);
      stdout.write(result.value);
      // Scripts get the bytes untouched; a person gets the prompt back on its own line.
      const lineOriented = context.inShell || isTTY === true;
      if (lineOriented && result.value.at(-1) !== 0x0a) stdout.write('\n');
    });
}

function addDelete(parent: Command, context: CommandContext): void {
  parent
    .command('delete')
    .description('delete a key')
    .argument('<key>')
    .option('--if-match <version>', 'delete only if the current version is this one', version)
    .action(async (key: string, flags: { ifMatch?: number }) => {
      context.print(await context.client().delete(key, { ifMatch: flags.ifMatch }), DELETE);
    });
}

/** The value comes from exactly one place: the argument, --file, or stdin. */
async function readValue(
  value: string | undefined,
  file: string | undefined,
  context: CommandContext,
): Promise<Buffer> {
  const fromStdin = value === '-';
  if (value !== undefined && !fromStdin) {
    if (file !== undefined) throw new UsageError('give the value or --file, not both');
    return Buffer.from(value, 'utf8');
  }
  if (file !== undefined) {
    if (fromStdin) throw new UsageError("give '-' or --file, not both");
    return readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
    });
  }
  if (context.inShell) throw new UsageError('missing value (in the shell, give it or use --file)');
  if (!fromStdin && context.io.stdin.isTTY) throw new UsageError("missing value (give it, '-' for stdin, or --file)");
  return readAll(context.io.stdin);
}
