/**
 * `kvctl user add|remove|list|grant|revoke|token add|token remove`: the users of gates that run
 * `--auth on` (docs/security.md), through `/v1/admin/users` with an admin
 * token. Shared by the command line and the shell.
 */
import { Option, type Command } from 'commander';
import { USER_ROLES, type IssuedToken, type UserGrant, type UserRole, type UserView } from '@kvstore/kvclient';
import type { CommandContext } from './context';
import { cell, type Rendering } from './output';
import { collect, durationSeconds } from './parsers';

const roleOption = (flags: string, description: string): Option => new Option(flags, description).choices(USER_ROLES);
const PREFIX_HELP = 'limit the grant to keys starting with this (repeat for several; not with admin)';
const EXPIRES_HELP = 'the token stops working after this long: 90d, 12h, 30m, 45s (default: never)';

export function addUserCommands(parent: Command, context: CommandContext): void {
  const user = parent.command('user').description('users, tokens and roles of gates that run --auth on (needs an admin token)');
  user
    .command('list')
    .description('every user, its grants and its tokens’ ids (with their expiry)')
    .action(async () => context.print(await context.client().users(), USERS));
  user
    .command('add')
    .description('create a user with one grant and print its token (shown this once)')
    .argument('<name>')
    .addOption(roleOption('--role <role>', 'read, readwrite or admin').makeOptionMandatory())
    .option('--prefix <prefix>', PREFIX_HELP, collect)
    .option('--expires-in <duration>', EXPIRES_HELP, durationSeconds)
    .action(async (name: string, flags: { role: UserRole; prefix?: string[]; expiresIn?: number }) => {
      const grant: UserGrant = flags.prefix ? { role: flags.role, prefixes: flags.prefix } : { role: flags.role };
      context.print(await context.client().addUser(name, [grant], expiry(flags.expiresIn)), ISSUED);
    });
  user
    .command('remove')
    .description('delete a user: its tokens stop working at every gate')
    .argument('<name>')
    .action(async (name: string) => {
      await context.client().removeUser(name);
      context.print({ name }, REMOVED);
    });
  user
    .command('grant')
    .description("set a user's grant of a role (replacing the one it had)")
    .argument('<name>')
    .addArgument(roleArgument(user))
    .option('--prefix <prefix>', PREFIX_HELP, collect)
    .action(async (name: string, role: UserRole, flags: { prefix?: string[] }) => {
      context.print([await context.client().grant(name, role, flags.prefix)], USERS);
    });
  user
    .command('revoke')
    .description("take a user's grant of a role away")
    .argument('<name>')
    .addArgument(roleArgument(user))
    .action(async (name: string, role: UserRole) => context.print([await context.client().revoke(name, role)], USERS));
  const token = user.command('token').description("a user's tokens: rotate by adding one, moving clients to it, then removing the old one");
  token
    .command('add')
    .description('give a user another token beside its others, and print it (shown this once)')
    .argument('<name>')
    .option('--expires-in <duration>', EXPIRES_HELP, durationSeconds)
    .action(async (name: string, flags: { expiresIn?: number }) => context.print(await context.client().addUserToken(name, expiry(flags.expiresIn)), ISSUED));
  token
    .command('remove')
    .description('take one token of a user away (its id, from user list): it stops working at every gate')
    .argument('<name>')
    .argument('<id>')
    .action(async (name: string, id: string) => context.print([await context.client().removeUserToken(name, id)], USERS));
}

function expiry(expiresInS: number | undefined): { expiresInS?: number } {
  return expiresInS === undefined ? {} : { expiresInS };
}

/** A token's id, and when it expires if it does (UTC, to the minute). */
function tokenText(token: UserView['tokens'][number]): string {
  if (token.expiresAt === undefined) return token.id;
  const at = new Date(token.expiresAt).toISOString().slice(0, 16).replace('T', ' ');
  return `${token.id} (${token.expiresAt <= Date.now() ? 'expired' : 'expires'} ${at} UTC)`;
}

function roleArgument(user: Command) {
  return user.createArgument('<role>', 'read, readwrite or admin').choices(USER_ROLES);
}

function grantsText(grants: readonly UserGrant[]): string {
  return grants.map((grant) => (grant.prefixes ? `${grant.role}:${grant.prefixes.join('|')}` : grant.role)).join(', ');
}

const USERS: Rendering<UserView[]> = {
  columns: ['NAME', 'GRANTS', 'TOKENS'],
  rows: (users) => users.map((user) => [user.name, cell(grantsText(user.grants)), cell(user.tokens.map(tokenText).join(', '))]),
};

const ISSUED: Rendering<IssuedToken> = {
  columns: ['NAME', 'GRANTS', 'TOKEN'],
  rows: (issued) => [[issued.name, grantsText(issued.grants), issued.token]],
  text: (issued) => `${issued.token}\n(the token of ${issued.name}, shown this once: keep it in a file and use --token-file or KV_TOKEN)`,
};

const REMOVED: Rendering<{ name: string }> = {
  columns: ['NAME', 'REMOVED'],
  rows: ({ name }) => [[name, 'true']],
  text: ({ name }) => `removed ${name}`,
};
