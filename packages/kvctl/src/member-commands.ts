/**
 * Leadership and in-sync members, for maintenance: `cluster
 * leader-transfer` moves a partition's lead without losing a write or
 * failing a client; `cluster remove-member` takes a follower out of the
 * in-sync set (and out of elections) until `cluster restore-member`.
 * Shared by the command line and the shell.
 */
import type { Command } from 'commander';
import type { CommandContext } from './context';
import { positiveInteger } from './parsers';
import { LEADER_TRANSFER, memberChangeRendering } from './renderings';

const DEFAULT_CATCH_UP_TIMEOUT_MS = 10_000;

export function addMemberCommands(cluster: Command, context: CommandContext): void {
  cluster
    .command('leader-transfer')
    .description('hand a partition’s lead over once the target has caught up, with no write lost and no error for clients')
    .argument('<partition>')
    .option('--to <id>', 'the replica to lead (default: the most caught-up in-sync follower)')
    .option('--catch-up-timeout <ms>', `how long the target may take to catch up before the old leader goes on (default ${DEFAULT_CATCH_UP_TIMEOUT_MS})`, positiveInteger)
    .action(async (partition: string, flags: { to?: string; catchUpTimeout?: number }) => {
      const result = await context.client().transferLeader(partition, { to: flags.to, timeoutMs: flags.catchUpTimeout ?? DEFAULT_CATCH_UP_TIMEOUT_MS });
      context.print(result, LEADER_TRANSFER);
    });
  cluster
    .command('remove-member')
    .description('take a follower out of the in-sync set for maintenance; it is not added back nor elected until restore-member')
    .argument('<partition>')
    .argument('<id>')
    .action(async (partition: string, id: string) => context.print(await context.client().removeMember(partition, id), memberChangeRendering('removed')));
  cluster
    .command('restore-member')
    .description('let a removed replica back: the leader adds it to the in-sync set once it has caught up')
    .argument('<partition>')
    .argument('<id>')
    .action(async (partition: string, id: string) => context.print(await context.client().restoreMember(partition, id), memberChangeRendering('restored')));
}
