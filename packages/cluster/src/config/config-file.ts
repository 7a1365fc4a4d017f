import * as fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parse, YAMLError } from 'yaml';
import { ConfigError } from './config-error';
import type { ValueParser } from './values';

/**
 * A settings file (`--config kv.yaml`): one YAML mapping whose keys are the
 * programs' long flag names without the dashes (`cluster-secret-file:`), and
 * whose values are what the flag would take. An empty file sets nothing.
 */
export function readConfigFile(file: string): Map<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read --config ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    // yaml's messages go on with an excerpt of the file; the first line names the place.
    if (error instanceof YAMLError) throw new ConfigError(`${file}: ${(error.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
    throw error;
  }
  if (document === null || document === undefined) return new Map();
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(`${file}: must be a mapping of flag names to values (port: 4001), got ${describe(document)}`);
  }
  return new Map(Object.entries(document));
}

/** The setting `key` of `file` as its flag would give it: a switch takes true or false; a value flag takes a string or a number, checked by its parser. */
export function configValue(file: string, key: string, raw: unknown, parse: ValueParser<unknown> | undefined): unknown {
  if (parse === undefined) {
    if (typeof raw !== 'boolean') throw new ConfigError(`${file}: ${key} must be true or false, got ${describe(raw)}`);
    return raw;
  }
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) {
    throw new ConfigError(`${file}: ${key} must be a string or a number, got ${describe(raw)}`);
  }
  const text = String(raw);
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new ConfigError(`${file}: ${key} ${error.message}, got "${text}"`);
    throw error;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'no value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}
