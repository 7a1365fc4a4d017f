/**
 * The interactive shell (`kvctl -i`): one command per line, the same
 * commands as the command line, a failing command reported and the shell
 * going on. Piped input is read to its end, then the shell exits with 0.
 */
import { createInterface, type Completer } from 'node:readline';
import { Command } from 'commander';
import { addDataCommands } from './commands';
import { createContext, type CommandContext } from './context';
import { describeFailure } from './failures';
import { HISTORY_LIMIT, appendHistory, historyPath, loadHistory } from './history';
import { addOutputOptions, chosenFormat } from './output';
import { configureCommand } from './setup';
import { splitWords } from './words';

const PROMPT = 'kv> ';

export async function runShell(context: CommandContext): Promise<void> {
  const { io } = context;
  const historyFile = historyPath(io.env);
  const input = createInterface({
    input: io.stdin,
    output: io.stdout,
    prompt: PROMPT,
    // Line editing only when a person is at a terminal; piped input is read as plain lines.
    terminal: io.isTTY === true && io.stdin.isTTY === true,
    history: loadHistory(historyFile),
    historySize: HISTORY_LIMIT,
    removeHistoryDuplicates: true,
    completer: commandCompleter(createShellProgram(context, () => undefined)),
  });
  let closed = false;
  input.on('close', () => (closed = true));
  input.on('SIGINT', () => input.close());
  // Piped input may end while earlier lines still run; their prompts then bypass the closed interface.
  const prompt = (): void => (closed ? void io.stdout.write(PROMPT) : input.prompt());
  prompt();
  for await (const line of input) {
    if (line.trim() !== '') appendHistory(historyFile, line);
    if (!(await runLine(line, context))) return void input.close();
    prompt();
  }
  // At end of input the cursor still sits after a prompt; leave the terminal on a fresh line.
  io.stdout.write('\n');
}

/** Runs one line and reports its failure, if any; false when the line asks to leave. */
async function runLine(line: string, context: CommandContext): Promise<boolean> {
  let open = true;
  try {
    const words = splitWords(line);
    if (words.length > 0) await createShellProgram(context, () => (open = false)).parseAsync(words, { from: 'user' });
  } catch (error) {
    const failure = describeFailure(error);
    if (failure.line) context.io.stderr.write(`${failure.line}\n`);
  }
  return open;
}

/**
 * A fresh command tree per line, so that no option value survives from one
 * line into the next; a line's --output, else the shell's own (`kvctl -o json -i`).
 */
function createShellProgram(outer: CommandContext, leave: () => void): Command {
  const program = addOutputOptions(configureCommand(new Command('kv>'), outer.io).usage('<command> [options]'));
  const context = createContext({ io: outer.io, client: outer.client, inShell: true }, () => chosenFormat(program.opts()) ?? outer.output());
  addDataCommands(program, context);
  program.command('exit').alias('quit').description('leave the shell').action(leave);
  return program;
}

/** Completes command names, and subcommand names after a command that has them (`cluster st` -> `status`). */
export function commandCompleter(program: Command): Completer {
  const namesOf = (command: Command): string[] => command.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]);
  const topLevel = [...namesOf(program), 'help'].sort();
  return (line: string) => {
    const words = line.trimStart().split(/\s+/);
    const current = words.at(-1) ?? '';
    const parent = words.length === 2 ? program.commands.find((command) => command.name() === words[0]) : undefined;
    const candidates = words.length === 1 ? topLevel : parent ? namesOf(parent) : [];
    const hits = candidates.filter((name) => name.startsWith(current));
    return [hits, current];
  };
}
