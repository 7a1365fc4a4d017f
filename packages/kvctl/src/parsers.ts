/** Option value parsers; a bad value is a usage error (exit 2) named after its option by commander. */
import { InvalidArgumentError } from 'commander';

export function positiveInteger(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError('expected a whole number >= 1');
  return Number(text);
}

export function version(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('expected a version number');
  return Number(text);
}

/** For repeatable options such as --host. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
