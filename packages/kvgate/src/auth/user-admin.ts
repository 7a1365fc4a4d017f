import { ZkError, type ZkClient } from '@kvstore/cluster';
import {
  KvError,
  conflict,
  encodeRecord,
  notFound,
  parseUser,
  type ClusterPaths,
  type IssuedToken,
  type UserGrant,
  type UserRecord,
  type UserRole,
  type UserView,
} from '@kvstore/protocol';
import { issueToken } from '@kvstore/cluster';

/** Tries of a read-modify-write that lost to another writer before it gives up with 409. */
const WRITE_ATTEMPTS = 5;

/** The user management of `/v1/admin/users` (docs/api.md, "Users"): writes to `/users/<name>`, which every gate watches. */
export interface UserAdmin {
  list(): Promise<UserView[]>;
  /** Creates the user with these grants and one token (expiring after `expiresInS` when given); 409 if it exists. */
  add(name: string, grants: UserGrant[], expiresInS?: number): Promise<IssuedToken>;
  /** Gives the user one more token, its others still working (rotation: add, move clients over, remove the old one). */
  addToken(name: string, expiresInS?: number): Promise<IssuedToken>;
  /** Takes one token away: it stops working at every gate; 404 if the user has no such token. */
  removeToken(name: string, id: string): Promise<UserView>;
  remove(name: string): Promise<{ name: string; removed: true }>;
  /** Sets the user's grant of this role (replacing one it had). */
  grant(name: string, grant: UserGrant): Promise<UserView>;
  /** Takes the user's grant of this role away; 404 if it had none. */
  revoke(name: string, role: UserRole): Promise<UserView>;
}

export function userView(name: string, record: UserRecord): UserView {
  return { name, grants: record.grants, tokens: record.tokens.map(({ id, createdAt, expiresAt }) => (expiresAt === undefined ? { id, createdAt } : { id, createdAt, expiresAt })) };
}

/** Creates `/users/<name>` with one new token; NODE_EXISTS (ZkError) if the user exists. */
export async function createUser(zookeeper: ZkClient, paths: ClusterPaths, name: string, grants: UserGrant[], now: number, expiresInS?: number): Promise<IssuedToken> {
  const { token, stored } = await issueToken(now, expiryOf(now, expiresInS));
  const record: UserRecord = { grants, tokens: [stored] };
  await zookeeper.mkdirp(paths.users);
  await zookeeper.create(paths.user(name), encodeRecord(record), 'persistent');
  return { ...userView(name, record), token };
}

function expiryOf(now: number, expiresInS: number | undefined): number | undefined {
  return expiresInS === undefined ? undefined : now + expiresInS * 1000;
}

export function userAdmin(zookeeper: () => ZkClient, paths: ClusterPaths, now: () => number = Date.now): UserAdmin {
  const missing = (name: string): KvError => notFound(`no user ${name}`);

  /** Applies `change` to the record at the version read, again if another writer came first. */
  async function update(name: string, change: (record: UserRecord) => UserRecord): Promise<UserView> {
    const session = zookeeper();
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const node = await session.getData(paths.user(name));
      if (!node) throw missing(name);
      const record = change(parseUser(node.data));
      try {
        await session.setData(paths.user(name), encodeRecord(record), node.version);
        return userView(name, record);
      } catch (error) {
        if (!(error instanceof ZkError) || error.code !== 'BAD_VERSION') throw error;
      }
    }
    throw conflict(`user ${name} kept changing; try again`);
  }

  return {
    async list() {
      const session = zookeeper();
      const names = [...((await session.getChildren(paths.users)) ?? [])].sort();
      const nodes = await Promise.all(names.map(async (name) => ({ name, node: await session.getData(paths.user(name)) })));
      return nodes.flatMap(({ name, node }) => (node ? [userView(name, parseUser(node.data))] : []));
    },

    async add(name, grants, expiresInS) {
      try {
        return await createUser(zookeeper(), paths, name, grants, now(), expiresInS);
      } catch (error) {
        if (error instanceof ZkError && error.code === 'NODE_EXISTS') throw conflict(`user ${name} exists`);
        throw error;
      }
    },

    async remove(name) {
      // remove() takes a missing node for removed; the user asked about one that must exist.
      const session = zookeeper();
      if (!(await session.getData(paths.user(name)))) throw missing(name);
      await session.remove(paths.user(name));
      return { name, removed: true };
    },

    async addToken(name, expiresInS) {
      const at = now();
      const { token, stored } = await issueToken(at, expiryOf(at, expiresInS));
      const view = await update(name, (record) => ({ ...record, tokens: [...record.tokens, stored] }));
      return { ...view, token };
    },

    removeToken: (name, id) =>
      update(name, (record) => {
        if (!record.tokens.some((token) => token.id === id)) throw notFound(`user ${name} has no token ${id}`);
        return { ...record, tokens: record.tokens.filter((token) => token.id !== id) };
      }),

    grant: (name, grant) => update(name, (record) => ({ ...record, grants: [...record.grants.filter((held) => held.role !== grant.role), grant] })),

    revoke: (name, role) =>
      update(name, (record) => {
        if (!record.grants.some((held) => held.role === role)) throw notFound(`user ${name} has no ${role} grant`);
        return { ...record, grants: record.grants.filter((held) => held.role !== role) };
      }),
  };
}
