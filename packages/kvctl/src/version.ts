/** `kvctl --version`: the package's version, read from its package.json at run time, and Node's. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** From dist/src/ (and dist/test/'s import of it), the package root is two levels up. */
const PACKAGE_JSON = join(__dirname, '..', '..', 'package.json');

export function versionText(): string {
  const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${PACKAGE_JSON} has no version`);
  return `kvctl ${version}\nnode ${process.version}`;
}
