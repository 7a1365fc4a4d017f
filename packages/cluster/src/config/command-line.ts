import assert from 'node:assert/strict';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { configValue, readConfigFile } from './config-file';
import { ConfigError } from './config-error';
import type { ValueParser } from './values';

/** One option of a program: its flag, help line, environment variable, parser and default. */
export interface Setting {
  /** commander's flags: '--port <n>' takes a value (and needs `parse`), '--smoke' is a switch. */
  readonly flags: string;
  readonly description: string;
  readonly env?: string;
  readonly parse?: ValueParser<unknown>;
  /** The default, written as a user would write it, and parsed like that. */
  readonly default?: string;
  /** Refuse to run without a value (an empty one counts as none); a text says why, and how to get one. */
  readonly required?: true | string;
  /** This setting names a settings file (see config-file.ts) giving the others; their flags and variables win over it. At most one per program. */
  readonly configFile?: true;
}

export type Settings = Readonly<Record<string, Setting>>;

type ValueOf<S> = S extends { parse: ValueParser<infer T> }
  ? S extends { default: string } | { required: true | string }
    ? T
    : T | undefined
  : S extends { flags: string; parse?: undefined }
    ? boolean
    : unknown;

/** What parseCommandLine returns: a switch is a boolean, a setting without a default may be undefined (unknown when the settings are built at run time). */
export type Values<S extends Settings> = { -readonly [K in keyof S]: ValueOf<S[K]> };

export type Environment = Readonly<Record<string, string | undefined>>;

/** A value its parser refused: reported after parsing, when commander knows whether the flag or its variable gave it. */
class Refusal {
  constructor(
    readonly reason: string,
    readonly raw: string,
  ) {}
}

function toOption(setting: Setting): Option {
  const option = new Option(setting.flags, setting.required === undefined ? setting.description : `${setting.description} (required)`);
  assert.equal(option.isBoolean(), setting.parse === undefined, `${setting.flags}: a value flag needs a parser, a switch has none`);
  if (setting.env !== undefined) option.env(setting.env);
  const parse = setting.parse;
  if (parse !== undefined) {
    option.argParser((raw: string) => {
      // An empty value of a required setting is no value: refused below as missing, not as malformed.
      if (raw === '' && setting.required !== undefined) return raw;
      try {
        return parse(raw);
      } catch (error) {
        if (error instanceof InvalidArgumentError) return new Refusal(error.message, raw);
        throw error;
      }
    });
  }
  if (setting.default !== undefined) option.default(parse === undefined ? setting.default : parse(setting.default), setting.default);
  return option;
}

/**
 * commander's Option.env() reads process.env; for this one synchronous parse
 * it reads the environment we were handed (tests stay hermetic), less its
 * empty variables: an empty KV_X= counts as unset, so the default applies.
 */
function withEnvironment(env: Environment, parse: () => void): void {
  const real = process.env;
  process.env = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  try {
    parse();
  } finally {
    process.env = real;
  }
}

interface ParsedOption {
  readonly key: string;
  readonly setting: Setting;
  readonly option: Option;
}

function refusalError({ setting, option }: ParsedOption, command: Command, refusal: Refusal): ConfigError {
  const fromEnv = command.getOptionValueSource(option.attributeName()) === 'env' ? ` (from ${setting.env})` : '';
  return new ConfigError(`${option.long ?? option.flags} ${refusal.reason}, got "${refusal.raw}"${fromEnv}`);
}

/** Flag names compared loosely, to suggest the right key for `clusterSecretFile` or `--port`. */
const loosely = (name: string): string => name.replace(/[-_]/g, '').toLowerCase();

/** Gives every option the config file sets and neither a flag nor a variable did its value from the file. */
function applyConfigFile(command: Command, options: readonly ParsedOption[], file: string): void {
  const byKey = new Map(options.filter(({ setting }) => setting.configFile !== true).map((parsed) => [parsed.option.long?.replace(/^--/, '') ?? '', parsed]));
  for (const [key, raw] of readConfigFile(file)) {
    const parsed = byKey.get(key);
    if (parsed === undefined) {
      const like = [...byKey.keys()].find((known) => loosely(known) === loosely(key));
      throw new ConfigError(`${file}: unknown key "${key}"${like === undefined ? '' : ` (did you mean "${like}"?)`}; the keys are the long flag names without "--"`);
    }
    const value = configValue(file, key, raw, parsed.setting.parse);
    const attribute = parsed.option.attributeName();
    const source = command.getOptionValueSource(attribute);
    if (source !== 'cli' && source !== 'env') command.setOptionValueWithSource(attribute, value, 'config');
  }
}

/**
 * The command of a cluster program (kvserver, kvgate): no stray arguments,
 * and each option's help line names its variable and its default.
 */
export function programCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .allowExcessArguments(false)
    .configureHelp({
      optionDescription: (option) =>
        [
          option.description,
          option.envVar === undefined ? '' : `(env ${option.envVar})`,
          option.defaultValueDescription === undefined ? '' : `(default: ${JSON.stringify(option.defaultValueDescription)})`,
        ]
          .filter((part) => part !== '')
          .join(' '),
    });
}

/**
 * Adds the settings to `command` and parses `argv` (the arguments after the
 * program's name), falling back to each setting's variable in `env`, then to
 * the settings file a `configFile` setting names, then to its default: a
 * flag wins over its variable, the variable over the file. Throws ConfigError: with the help text and exit
 * code 0 for --help, else with one line that names the flag (and the
 * variable, when the value came from it), or the file and its key.
 */
export function parseCommandLine<S extends Settings>(command: Command, settings: S, argv: readonly string[], env: Environment = {}): Values<S> {
  const options: ParsedOption[] = Object.entries(settings).map(([key, setting]) => ({ key, setting, option: toOption(setting) }));
  assert.ok(options.filter(({ setting }) => setting.configFile === true).length <= 1, 'one settings file at most');
  for (const { option } of options) command.addOption(option);
  // The help text is kept for the ConfigError (with what addHelpText adds, which helpInformation() lacks); errors are thrown.
  let help = '';
  command.exitOverride().configureOutput({ writeOut: (text) => (help += text), writeErr: () => undefined });
  try {
    withEnvironment(env, () => command.parse([...argv], { from: 'user' }));
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed') throw new ConfigError(help, 0);
    // commander's suggestion ("(Did you mean --port?)") is on a line of its own.
    throw new ConfigError(error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim());
  }
  const configFile = options.find(({ setting }) => setting.configFile === true);
  if (configFile !== undefined) {
    const file: unknown = command.getOptionValue(configFile.option.attributeName());
    if (file instanceof Refusal) throw refusalError(configFile, command, file);
    if (typeof file === 'string') applyConfigFile(command, options, file);
  }
  const values: Record<string, unknown> = {};
  for (const parsed of options) {
    const { key, setting, option } = parsed;
    const flag = option.long ?? option.flags;
    const value: unknown = command.getOptionValue(option.attributeName());
    if (value instanceof Refusal) throw refusalError(parsed, command, value);
    if (setting.required !== undefined && (value === undefined || value === '')) {
      const orSet = setting.env === undefined ? '' : ` (or set ${setting.env})`;
      throw new ConfigError(`${flag} is required${orSet}${setting.required === true ? '' : `: ${setting.required}`}`);
    }
    values[key] = option.isBoolean() ? value === true : value;
  }
  return values as Values<S>;
}
