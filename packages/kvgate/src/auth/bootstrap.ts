import { rename, writeFile } from 'node:fs/promises';
import { ZkError, type ZkClient } from '@kvstore/cluster';
import type { ClusterPaths } from '@kvstore/protocol';
import type { Logger } from 'pino';
import { createUser } from './user-admin';

/** The user `--auth-bootstrap-token-file` makes. */
export const BOOTSTRAP_USER = 'admin';

/**
 * The first admin: creates the user `admin` with the admin role unless it
 * exists, and writes its token to `file` (mode 0600, through a rename so
 * that no reader sees half a token). Every gate may run it at once: only
 * the one whose create wins writes the file. An existing `admin` leaves the
 * file alone, so a restart keeps the token that works.
 */
export async function bootstrapAdmin(zookeeper: ZkClient, paths: ClusterPaths, file: string, logger: Logger): Promise<void> {
  let token: string;
  try {
    ({ token } = await createUser(zookeeper, paths, BOOTSTRAP_USER, [{ role: 'admin' }], Date.now()));
  } catch (error) {
    if (error instanceof ZkError && error.code === 'NODE_EXISTS') {
      logger.info({ user: BOOTSTRAP_USER, file }, 'bootstrap: the admin user exists; token file left as it is');
      return;
    }
    throw error;
  }
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${token}\n`, { mode: 0o600 });
  await rename(temporary, file);
  logger.info({ user: BOOTSTRAP_USER, file }, 'bootstrap: created the admin user and wrote its token');
}
