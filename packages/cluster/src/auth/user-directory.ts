import { WatchedChildren, watchRecord, type RecordProblem, type Watch, type WatchLogger, type WatchSource, type WatchedNode } from '../zk/watched-node';
import { isValidName, parseUser, type ClusterPaths, type UserRecord, type UserToken } from '@kvstore/protocol';

/** A token id found: whose it is, and the user's record it was found in. */
export interface TokenOwner {
  user: string;
  record: UserRecord;
  token: UserToken;
}

/**
 * Every user of the cluster (`/users/<name>`), followed by watches, with an
 * index from token id to owner rebuilt at every change. A record is
 * replaced, never changed in place, so its identity says whether it changed.
 */
export class UserDirectory implements Watch {
  private readonly users: WatchedChildren<WatchedNode<UserRecord>>;
  private owners = new Map<string, TokenOwner>();

  constructor(paths: ClusterPaths, logger: WatchLogger) {
    this.users = new WatchedChildren(
      paths.users,
      (name, notify) => (isValidName(name) ? watchRecord(paths.user(name), parseUser, notify, logger) : undefined),
      () => this.reindex(),
      logger,
    );
  }

  attach(source: WatchSource): Promise<void> {
    return this.users.attach(source);
  }

  stop(): void {
    this.users.stop();
  }

  problems(): RecordProblem[] {
    return this.users.problems();
  }

  /** The user's record as last read; undefined once the user is gone. */
  record(user: string): UserRecord | undefined {
    return this.users.children.get(user)?.value;
  }

  owner(tokenId: string): TokenOwner | undefined {
    return this.owners.get(tokenId);
  }

  private reindex(): void {
    const owners = new Map<string, TokenOwner>();
    for (const [user, watch] of this.users.children) {
      const record = watch.value;
      for (const token of record?.tokens ?? []) if (record) owners.set(token.id, { user, record, token });
    }
    this.owners = owners;
  }
}
