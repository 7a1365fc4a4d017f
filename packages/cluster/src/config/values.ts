import { InvalidArgumentError } from 'commander';
import { isValidName } from '@kvstore/protocol';

/**
 * Turns the text of a flag or environment variable into its value, or throws
 * commander's InvalidArgumentError saying what the text must be ("must be
 * ..."): the command line puts the flag before it and the text after it.
 */
export type ValueParser<T> = (raw: string) => T;

/** Any text, as given. */
export const text: ValueParser<string> = (raw) => raw;

/** Decimal digits (surrounding blanks allowed) making an integer in [min, max]. */
export function integer(min: number, max: number): ValueParser<number> {
  return (raw) => {
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return value;
  };
}

export function choice<const T extends string>(values: readonly T[]): ValueParser<T> {
  return (raw) => {
    const found = values.find((value) => value === raw);
    if (found === undefined) throw new InvalidArgumentError(`must be one of ${values.join(', ')}`);
    return found;
  };
}

/** A cluster, partition or replica name (they are ZooKeeper path segments). */
export const name: ValueParser<string> = (raw) => {
  if (!isValidName(raw)) throw new InvalidArgumentError("must be letters, digits, '.', '_' or '-' (at most 64)");
  return raw;
};

/** A file or directory; only the empty text is refused (the program reads or makes it later). */
export const filePath: ValueParser<string> = (raw) => {
  if (raw === '') throw new InvalidArgumentError('must be a path');
  return raw;
};

/** Something to listen on: a host name, an IPv4 or an IPv6 address. */
export const hostAddress: ValueParser<string> = (raw) => {
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(raw)) throw new InvalidArgumentError('must be a host name or address');
  return raw;
};

/** An http(s) url, without its trailing slashes. */
export const httpUrl: ValueParser<string> = (raw) => {
  const protocol = URL.canParse(raw) ? new URL(raw).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') throw new InvalidArgumentError('must be an http(s) url');
  return raw.replace(/\/+$/, '');
};

/** A ZooKeeper connect string: comma-separated host:port pairs, optionally followed by a chroot path. */
export const connectString: ValueParser<string> = (raw) => {
  const hosts = raw.split('/')[0] ?? '';
  if (!hosts.split(',').every((hostPort) => /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(hostPort.trim()))) {
    throw new InvalidArgumentError('must be host:port[,host:port...]');
  }
  return raw;
};
