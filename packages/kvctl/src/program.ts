/**
 * kvctl as a function of its streams and environment: createProgram(io).run(argv)
 * runs one command line and resolves to its exit code, so tests run it in-process.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { KvClient, hostsFromEnv } from '@kvstore/kvclient';
import { addDataCommands } from './commands';
import { addCompletionCommand } from './completion';
import { createContext } from './context';
import { EXIT, UsageError, describeFailure } from './failures';
import type { ProgramIo } from './io';
import { addOutputOptions, chosenFormat } from './output';
import { collect, positiveInteger } from './parsers';
import { configureCommand } from './setup';
import { runShell } from './shell';
import { versionText } from './version';

export interface Kvctl {
  /** Runs one command line (the arguments after the program name); resolves to the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

export interface GlobalFlags {
  host?: string[];
  timeout?: number;
  interactive?: boolean;
  token?: string;
  tokenFile?: string;
  cacert?: string;
  insecure?: boolean;
  direct?: boolean;
}

export function createProgram(io: ProgramIo): Kvctl {
  return { run: (argv) => run(io, argv) };
}

async function run(io: ProgramIo, argv: readonly string[]): Promise<number> {
  let client: KvClient | undefined;
  const program = buildProgram(io, (flags) => (client ??= createClient(flags, io)));
  let exitCode: number = EXIT.OK;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    const failure = describeFailure(error);
    if (failure.line) io.stderr.write(`${failure.line}\n`);
    exitCode = failure.exitCode;
  } finally {
    client?.close();
  }
  io.exit?.(exitCode);
  return exitCode;
}

/** The whole command tree; `clientFor` gets the parsed global flags when a command first needs a client. */
export function buildProgram(io: ProgramIo, clientFor: (flags: GlobalFlags) => KvClient): Command {
  const program = configureCommand(new Command('kvctl'), io);
  const context = createContext(
    { io, inShell: false, client: () => clientFor(program.opts<GlobalFlags>()) },
    () => chosenFormat(program.opts()),
  );
  program
    .description('command line for kvstore')
    .version(versionText(), '-V, --version', 'print the versions of kvctl and Node.js')
    .option(
      '--host <host:port>',
      'a gate; repeat or comma-separate for several (default: $KV_HOST, else localhost:3000)',
      collect,
    )
    .option('--timeout <ms>', 'how long to wait for a gate to answer', positiveInteger)
    .option('--token <token>', 'bearer token for gates that run --auth on (default: $KV_TOKEN)')
    .option('--token-file <path>', 'read the token from this file (default: $KV_TOKEN_FILE)')
    .option('--cacert <file>', "verify https:// gates against this CA certificate (PEM; the cluster's CA) (default: $KV_CACERT)")
    .option('--insecure', 'do not verify https:// gates: for tests only, warns on every run')
    .option('--direct', "send reads and writes of keys straight to the replica that serves the key (the gate's /v1/routing table), the rest through the gate")
    .option('-i, --interactive', 'open the interactive shell');
  addOutputOptions(program);
  addDataCommands(program, context);
  program.command('shell').description('open the interactive shell').action(() => runShell(context));
  addCompletionCommand(program, context);
  // The root has an action (for -i), so commander would not add `help` by itself.
  program.helpCommand(true);
  // Excess words are accepted here only to be reported as an unknown command rather than "too many arguments".
  program.allowExcessArguments(true).action(async (flags: GlobalFlags, command: Command) => {
    if (command.args.length > 0) {
      command.error(`unknown command '${command.args[0]}'`, { code: 'commander.unknownCommand' });
    }
    if (!flags.interactive) throw new UsageError('missing command');
    await runShell(context);
  });
  return program;
}

/** --token, else --token-file, else KV_TOKEN, else KV_TOKEN_FILE; none: no Authorization header. */
function tokenOf(flags: GlobalFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw new UsageError('give --token or --token-file, not both');
  if (flags.token !== undefined) return flags.token;
  const file = flags.tokenFile ?? (env.KV_TOKEN ? undefined : env.KV_TOKEN_FILE || undefined);
  if (file === undefined) return env.KV_TOKEN || undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`cannot read the token file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** --cacert, else KV_CACERT: the PEM text https:// gates are verified against; none: the system's CAs. */
function caOf(flags: GlobalFlags, env: NodeJS.ProcessEnv): Buffer | undefined {
  const file = flags.cacert ?? (env.KV_CACERT || undefined);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read the CA certificate ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function createClient(flags: GlobalFlags, io: ProgramIo): KvClient {
  const { env } = io;
  if (flags.insecure === true) io.stderr.write('kvctl: WARNING: --insecure: the gate\'s certificate is not verified; anyone on the path can read and change this traffic, and the token\n');
  try {
    return new KvClient({ hosts: flags.host ?? hostsFromEnv(env), timeoutMs: flags.timeout, token: tokenOf(flags, env), ca: caOf(flags, env), insecure: flags.insecure,
      ...(flags.direct ? { routing: 'direct' as const } : {}),
    });
  } catch (error) {
    // The client refuses only malformed settings, which came from the flags or KV_HOST.
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}
