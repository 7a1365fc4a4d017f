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

const DURATION_UNITS_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90d`, `12h`, `30m`, `45s`, or bare seconds: whole seconds >= 1. */
export function durationSeconds(text: string): number {
  const match = /^([1-9]\d{0,9})([smhd]?)$/.exec(text);
  if (!match) throw new InvalidArgumentError('expected a duration such as 90d, 12h, 30m, 45s');
  return Number(match[1]) * DURATION_UNITS_S[match[2] || 's']!;
}

/** For repeatable options such as --host. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
