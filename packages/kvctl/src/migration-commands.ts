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
import { formatMigrationProgress } from './format';
import { positiveInteger } from './parsers';
import { createStatusLine } from './progress';
import { FORCED_REMOVAL, migrationRendering } from './renderings';

const DEFAULT_WATCH_INTERVAL_MS = 1000;

export function addClusterChangeCommands(cluster: Command, context: CommandContext): void {
  const started = (view: MigrationView): void => context.print(view, migrationRendering('started '));
  cluster
    .command('add-partition')
    .description('move slots (with their keys) to a new partition; follow with `migration status --watch`')
    .argument('<partition>')
    .action(async (partition: string) => started(await context.client().addPartition(partition)));
  cluster
    .command('remove-partition')
    .description("move a partition's slots (with their keys) to the others; --force: take a dead partition off the ring at once, giving up its keys")
    .argument('<partition>')
    .option('--force', 'do not move anything: the partition is dead for good and its keys are lost')
    .action(async (partition: string, flags: { force?: boolean }) => {
      const client = context.client();
      if (!flags.force) return started(await client.removePartition(partition));
      context.print(await client.removePartition(partition, { force: true }), FORCED_REMOVAL);
    });
  cluster
    .command('rebalance')
    .description('move slots to where the placement of the partitions puts them')
    .action(async () => started(await context.client().rebalance()));
}

export function addMigrationCommands(parent: Command, context: CommandContext): void {
  const migration = parent.command('migration').description('the migration of slots between partitions');
  migration
    .command('status')
    .description('the running or last migration: slots and keys moved, rate, ETA, worst write pause')
    .option('--watch', 'follow it until it is done or aborted (a progress bar on a terminal, else the migration at every change); exit 4 if it ends aborted')
    .option('--interval <ms>', `how often to ask while watching (default ${DEFAULT_WATCH_INTERVAL_MS})`, positiveInteger)
    .action(async (flags: { watch?: boolean; interval?: number }) => {
      const view = await context.client().migration();
      if (!flags.watch || !view) return context.print(view, migrationRendering());
      await watch(context, view, flags.interval ?? DEFAULT_WATCH_INTERVAL_MS);
    });
  migration
    .command('abort')
    .description('stop the running migration: what already moved moves back')
    .action(async () => context.print(await context.client().abortMigration(), migrationRendering('aborting ')));
}

/**
 * Asks again every `intervalMs` until the migration is done or aborted.
 * Without --output a terminal gets a progress bar redrawn on stderr and the
 * last state on stdout; anything else the migration printed on stdout
 * whenever more than the clock moved (the rate and ETA alone are not news).
 */
async function watch(context: CommandContext, first: MigrationView, intervalMs: number): Promise<void> {
  const drawing = context.output() === undefined && context.io.stderrIsTTY === true;
  const rendering = migrationRendering();
  const bar = createStatusLine(context.io);
  let view = first;
  let printed: string | undefined;
  for (;;) {
    const over = view.state === 'done' || view.state === 'aborted';
    if (drawing) {
      if (!over) bar.draw(formatMigrationProgress(view));
    } else if (news(view) !== printed) {
      context.print(view, rendering);
      printed = news(view);
    }
    if (over) break;
    await delay(intervalMs);
    view = (await context.client().migration()) ?? view;
  }
  bar.finish();
  if (drawing) context.print(view, rendering);
  if (view.state === 'aborted') throw new MigrationAbortedError(`migration ${view.id} was aborted`);
}

function news(view: MigrationView): string {
  return JSON.stringify([view.id, view.state, view.slotsMoved, view.slotsTotal, view.keysMoved, view.pauseMsMax, view.blocked]);
}
