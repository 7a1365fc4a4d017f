import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface Identity {
  cluster: string;
  partition: string;
  id: string;
}

/** A data dir that belongs to another replica, partition or cluster. */
export class IdentityMismatchError extends Error {
  override name = 'IdentityMismatchError';
}

/**
 * Binds a data dir to one replica: the first start writes `identity.json`,
 * every later start must present the same cluster, partition and id.
 */
export function claimDataDir(dataDir: string, identity: Identity): void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'identity.json');
  let stored: Identity | undefined;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as Identity;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (stored) {
    for (const field of ['cluster', 'partition', 'id'] as const) {
      if (stored[field] !== identity[field]) {
        throw new IdentityMismatchError(`data dir ${dataDir} belongs to ${field} "${stored[field]}", not "${identity[field]}"`);
      }
    }
    return;
  }
  writeFileSync(`${path}.tmp`, JSON.stringify(identity));
  renameSync(`${path}.tmp`, path);
}
