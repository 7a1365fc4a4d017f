/**
 * `kvctl completion bash|zsh`: completion scripts made from the command tree
 * itself (commands, subcommands, their options and the choices of option
 * values), so they stay true as commands change. Both scripts walk the words
 * typed so far to the command they name, skipping option values, then offer
 * that command's subcommands, or its options after a `-`, or an option's
 * choices; anything else (a key, a file) is left to the shell's default.
 */
import assert from 'node:assert/strict';
import { Argument, type Command, type Option } from 'commander';
import type { CommandContext } from './context';
import { UsageError } from './failures';

interface CompletionNode {
  /** The command's words from the program's name: `kvctl cluster status`. */
  path: string;
  /** Names (and aliases) of its subcommands, with `help` where commander adds it; else its first argument's choices. */
  commands: string[];
  /** Its options' flags and those of the commands above it. */
  options: string[];
  /** The options declared on it that take a value, with the choices of that value if it has any. */
  valueOptions: { flags: string[]; choices: readonly string[] }[];
  /** Subcommand names or aliases as they are typed after `path`, with the node each leads to. */
  next: { word: string; path: string }[];
}

export function addCompletionCommand(program: Command, context: CommandContext): void {
  program
    .command('completion')
    .description('print a completion script: `source <(kvctl completion bash)` in ~/.bashrc; zsh: the same after compinit')
    .addArgument(new Argument('<shell>').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      if (context.output() !== undefined) throw new UsageError('completion prints a script; --output does not apply');
      context.io.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}

export function bashCompletion(program: Command): string {
  const nodes = completionNodes(program);
  const name = program.name();
  return `# bash completion for ${name}, made by \`${name} completion bash\` from its commands.
# Load it with: source <(${name} completion bash)
_${name}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local node=${quote(name)} commands='' options='' i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "$node \${COMP_WORDS[i]}" in
${walkCases(nodes, '((i++))')}
    esac
  done
  case "$node $prev" in
${valueCases(nodes, (choices) => `COMPREPLY=($(compgen -W ${quote(choices.join(' '))} -- "$cur"))`, 'COMPREPLY=()')}
  esac
  case "$node" in
${wordCases(nodes)}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
  fi
}
complete -o default -F _${name} ${name}
`;
}

export function zshCompletion(program: Command): string {
  const nodes = completionNodes(program);
  const name = program.name();
  return `#compdef ${name}
# zsh completion for ${name}, made by \`${name} completion zsh\` from its commands.
# Load it with \`source <(${name} completion zsh)\` after compinit, or save it as _${name} in a directory of $fpath.
_${name}() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  local node=${quote(name)} commands='' options='' i
  for ((i = 2; i < CURRENT; i++)); do
    case "$node \${words[i]}" in
${walkCases(nodes, '((i++))')}
    esac
  done
  case "$node $prev" in
${valueCases(nodes, (choices) => `compadd -- ${choices.map(quote).join(' ')}`, '_default')}
  esac
  case "$node" in
${wordCases(nodes)}
  esac
  if [[ $cur == -* ]]; then
    compadd -- \${=options}
  elif [[ -n $commands ]]; then
    compadd -- \${=commands}
  else
    _default
  fi
}
if [[ \${funcstack[1]} == _${name} ]]; then _${name} "$@"; else compdef _${name} ${name}; fi
`;
}

/** Every command of the tree, depth first from the program. */
function completionNodes(program: Command): CompletionNode[] {
  const help = program.createHelp();
  const nodes: CompletionNode[] = [];
  const visit = (command: Command, path: string, inherited: string[]): void => {
    const own = help.visibleOptions(command);
    const options = [...new Set([...inherited, ...own.flatMap(flagsOf)])];
    const subcommands = help.visibleCommands(command);
    const next = subcommands.flatMap((sub) => [sub.name(), ...sub.aliases()].map((word) => ({ word, path: `${path} ${sub.name()}` })));
    const valueOptions = own.filter((option) => option.required || option.optional).map((option) => ({ flags: flagsOf(option), choices: option.argChoices ?? [] }));
    // A command without subcommands offers the choices of its first argument, if any (`completion bash|zsh`).
    const words = next.length > 0 ? next.map((step) => step.word) : [...(command.registeredArguments[0]?.argChoices ?? [])];
    nodes.push({ path, commands: words, options, valueOptions, next });
    // commander's own `help` command is a leaf of no interest beyond its name.
    for (const sub of subcommands) if (command.commands.includes(sub)) visit(sub, `${path} ${sub.name()}`, options);
  };
  visit(program, program.name(), []);
  return nodes;
}

function flagsOf(option: Option): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined);
}

/** `case "$node $word"` arms: a subcommand's name moves to it; an option that takes a value skips the value. */
function walkCases(nodes: CompletionNode[], skipValue: string): string {
  const steps = nodes.flatMap((node) => node.next.map((step) => `      ${quote(`${node.path} ${step.word}`)}) node=${quote(step.path)} ;;`));
  const values = nodes.flatMap((node) => node.valueOptions.map((option) => `      ${option.flags.map((flag) => withinNode(node.path, flag)).join('|')}) ${skipValue} ;;`));
  return [...steps, ...values].join('\n');
}

/** `case "$node $prev"` arms: after an option with choices, offer them; after another option that takes a value, the shell's default. */
function valueCases(nodes: CompletionNode[], offer: (choices: readonly string[]) => string, otherwise: string): string {
  const options = nodes.flatMap((node) => node.valueOptions.map((option) => ({ ...option, patterns: option.flags.map((flag) => withinNode(node.path, flag)) })));
  const offers = options.filter((option) => option.choices.length > 0).map((option) => `    ${option.patterns.join('|')}) ${offer(option.choices)}; return ;;`);
  const free = options.filter((option) => option.choices.length === 0).map((option) => `    ${option.patterns.join('|')}) ${otherwise}; return ;;`);
  return [...offers, ...free].join('\n');
}

/** `case "$node"` arms: what each command offers. */
function wordCases(nodes: CompletionNode[]): string {
  return nodes.map((node) => `    ${quote(node.path)}) commands=${quote(node.commands.join(' '))}; options=${quote(node.options.join(' '))} ;;`).join('\n');
}

/** A flag given right after the command that declares it, or after any of its subcommands (where it still applies). */
function withinNode(path: string, flag: string): string {
  return `${quote(`${path} ${flag}`)}|${quote(`${path} `)}*${quote(` ${flag}`)}`;
}

/** Single-quoted for the shell; names and flags are plain words, so a quote in one is a bug. */
function quote(text: string): string {
  assert.match(text, /^[\w .,:=@/+-]*$/, `completion word ${JSON.stringify(text)} needs quoting`);
  return `'${text}'`;
}
