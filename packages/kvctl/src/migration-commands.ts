/**
 * Growing and shrinking the cluster: `cluster add-partition`,
 * `remove-partition`, `rebalance` start a migration of slots through a
 * gate; `migration status [--watch]` and `migration abort` follow and stop
 * it. Shared by the command line and the shell.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import type { MigrationView } from '@kvstore/kvclient';
import type { CommandContext } from './context';
import { MigrationAbortedError } from './failures';
import { formatForcedRemoval, formatMigration, formatMigrationProgress } from './format';
import { positiveInteger } from './parsers';
import { createStatusLine } from './progress';

const DEFAULT_WATCH_INTERVAL_MS = 1000;

export function addClusterChangeCommands(cluster: Command, context: CommandContext): void {
  const started = (view: MigrationView, json: boolean | undefined): void => {
    context.io.stdout.write(json ? `${JSON.stringify(view)}\n` : `started ${formatMigration(view)}\n`);
  };
  cluster
    .command('add-partition')
    .description('move slots (with their keys) to a new partition; follow with `migration status --watch`')
    .argument('<partition>')
    .option('--json', 'print the migration as JSON')
    .action(async (partition: string, flags: { json?: boolean }) => started(await context.client().addPartition(partition), flags.json));
  cluster
    .command('remove-partition')
    .description("move a partition's slots (with their keys) to the others; --force: take a dead partition off the ring at once, giving up its keys")
    .argument('<partition>')
    .option('--force', 'do not move anything: the partition is dead for good and its keys are lost')
    .option('--json', 'print the migration (with --force: what was given up) as JSON')
    .action(async (partition: string, flags: { force?: boolean; json?: boolean }) => {
      const client = context.client();
      if (!flags.force) return started(await client.removePartition(partition), flags.json);
      const result = await client.removePartition(partition, { force: true });
      context.io.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatForcedRemoval(result)}\n`);
    });
  cluster
    .command('rebalance')
    .description('move slots to where the placement of the partitions puts them')
    .option('--json', 'print the migration as JSON')
    .action(async (flags: { json?: boolean }) => started(await context.client().rebalance(), flags.json));
}

export function addMigrationCommands(parent: Command, context: CommandContext): void {
  const migration = parent.command('migration').description('the migration of slots between partitions');
  migration
    .command('status')
    .description('the running or last migration: slots and keys moved, rate, ETA, worst write pause')
    .option('--watch', 'follow it until it is done or aborted (a progress bar on a terminal); exit 4 if it ends aborted')
    .option('--interval <ms>', `how often to ask while watching (default ${DEFAULT_WATCH_INTERVAL_MS})`, positiveInteger)
    .option('--json', 'print the migration as JSON (while watching: a line at every change)')
    .action(async (flags: { watch?: boolean; interval?: number; json?: boolean }) => {
      const view = await context.client().migration();
      if (!flags.watch || !view) return void context.io.stdout.write(flags.json ? `${JSON.stringify(view)}\n` : `${view ? formatMigration(view) : 'no migration has run'}\n`);
      await watch(context, view, flags.interval ?? DEFAULT_WATCH_INTERVAL_MS, flags.json === true);
    });
  migration
    .command('abort')
    .description('stop the running migration: what already moved moves back')
    .option('--json', 'print the migration as JSON')
    .action(async (flags: { json?: boolean }) => {
      const view = await context.client().abortMigration();
      context.io.stdout.write(flags.json ? `${JSON.stringify(view)}\n` : `aborting ${formatMigration(view)}\n`);
    });
}

/**
 * Asks again every `intervalMs` until the migration is done or aborted. A
 * terminal gets a progress bar redrawn on stderr and the last state on
 * stdout; anything else a line on stdout whenever more than the clock
 * moved (the rate and ETA alone are not news).
 */
async function watch(context: CommandContext, first: MigrationView, intervalMs: number, json: boolean): Promise<void> {
  const { stdout } = context.io;
  const drawing = !json && context.io.stderrIsTTY === true;
  const bar = createStatusLine(context.io);
  let view = first;
  let printed: string | undefined;
  for (;;) {
    const over = view.state === 'done' || view.state === 'aborted';
    if (drawing) {
      if (!over) bar.draw(formatMigrationProgress(view));
    } else if (news(view) !== printed) {
      stdout.write(`${json ? JSON.stringify(view) : formatMigration(view)}\n`);
      printed = news(view);
    }
    if (over) break;
    await delay(intervalMs);
    view = (await context.client().migration()) ?? view;
  }
  bar.finish();
  if (drawing) stdout.write(`${formatMigration(view)}\n`);
  if (view.state === 'aborted') throw new MigrationAbortedError(`migration ${view.id} was aborted`);
}

function news(view: MigrationView): string {
  return JSON.stringify([view.id, view.state, view.slotsMoved, view.slotsTotal, view.keysMoved, view.pauseMsMax, view.blocked]);
}
