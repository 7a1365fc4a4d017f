import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import * as zookeeper from 'node-zookeeper-client';
import { KVSTORE_ROOT } from '@kvstore/protocol';

/**
 * ZooKeeper digest authentication and the ACLs of the nodes a cluster
 * creates (docs/security.md, "ZooKeeper ACLs"): the one place that decides
 * who may do what to them.
 */

const USER = /^[A-Za-z0-9_.-]{1,64}$/;
const PASSWORD_MIN_CHARS = 16;
export const MAKE_ZK_AUTH_HINT = `printf 'kvstore:%s\\n' "$(head -c 24 /dev/urandom | base64)" > zk.auth && chmod 600 zk.auth`;

/**
 * A digest identity, `user:password`. The password stays inside: it is sent
 * to ZooKeeper by `authData` only, and neither logging nor JSON shows it.
 */
export class ZkDigest {
  readonly #password: string;

  constructor(
    readonly user: string,
    password: string,
  ) {
    this.#password = password;
  }

  /** What ZooKeeper's digest ACLs name: `user:base64(sha1(user:password))`. */
  get id(): string {
    return `${this.user}:${createHash('sha1').update(`${this.user}:${this.#password}`).digest('base64')}`;
  }

  /** The `addAuthInfo('digest', ...)` payload. */
  authData(): Buffer {
    return Buffer.from(`${this.user}:${this.#password}`, 'utf8');
  }

  toJSON(): { user: string } {
    return { user: this.user };
  }
}

/** One line `user:password` (a trailing newline allowed). Throws commander's InvalidArgumentError without the text in it. */
export function parseZkAuth(text: string): ZkDigest {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const [line = ''] = lines;
  const colon = line.indexOf(':');
  const user = line.slice(0, colon);
  const password = line.slice(colon + 1);
  if (lines.length !== 1 || colon < 0 || !USER.test(user) || password.length < PASSWORD_MIN_CHARS || /\s/.test(password)) {
    throw new InvalidArgumentError(
      `must hold one line user:password (user: 1 to 64 of letters, digits, '_', '.', '-'; password: at least ${PASSWORD_MIN_CHARS} characters, no blanks; make one with: ${MAKE_ZK_AUTH_HINT})`,
    );
  }
  return new ZkDigest(user, password);
}

/** The value parser of `--zk-auth-file`: reads and checks the file; refuses one that others may read. */
export function readZkAuthFile(file: string): ZkDigest {
  let text: string;
  try {
    const mode = fs.statSync(file).mode;
    if (process.platform !== 'win32' && (mode & 0o004) !== 0) throw new InvalidArgumentError('must not be readable by others (chmod 600 it)');
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(`must be a readable file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseZkAuth(text);
}

/** Writes `user:<random password>` to `file` (readable by its owner only), unless the file exists. Returns `file`. */
export function ensureZkAuthFile(file: string, user = 'kvstore'): string {
  try {
    fs.writeFileSync(file, `${user}:${randomBytes(24).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return file;
}

/** The ACLs a session creates nodes with. */
export interface ZkAcls {
  /** Every node of a cluster, its root included. */
  readonly node: zookeeper.ACL[];
  /** The nodes above cluster roots (`/kvstore`), which clusters with other credentials share. */
  readonly sharedParent: zookeeper.ACL[];
}

const ANYONE = new zookeeper.Id('world', 'anyone');

/** Without credentials, ZooKeeper's open ACL (its OPEN_ACL_UNSAFE, which the client's type declarations lack). */
const OPEN: zookeeper.ACL[] = [new zookeeper.ACL(zookeeper.Permission.ALL, ANYONE)];
export const OPEN_ACLS: ZkAcls = { node: OPEN, sharedParent: OPEN };

/**
 * With credentials: every right for that identity and none for anyone else.
 * Above the cluster roots anyone may also read (the cluster names), create
 * and delete (another cluster's root; ZooKeeper deletes only empty nodes,
 * and a cluster's root holds its ring), so one ensemble can hold clusters
 * with different credentials, or none.
 */
export function closedAcls(digest: ZkDigest): ZkAcls {
  const owner = new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', digest.id));
  const anyone = new zookeeper.ACL(zookeeper.Permission.READ | zookeeper.Permission.CREATE | zookeeper.Permission.DELETE, ANYONE);
  return { node: [owner], sharedParent: [owner, anyone] };
}

export function aclsFor(digest: ZkDigest | undefined): ZkAcls {
  return digest === undefined ? OPEN_ACLS : closedAcls(digest);
}

/** `path` lies above every cluster root: `/kvstore` (or `/`). */
export function isSharedParent(path: string): boolean {
  return KVSTORE_ROOT === path || KVSTORE_ROOT.startsWith(`${path === '/' ? '' : path}/`);
}
