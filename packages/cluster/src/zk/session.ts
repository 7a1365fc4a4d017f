import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as zookeeper from 'node-zookeeper-client';
import { aclsFor, isSharedParent, type ZkAcls, type ZkDigest } from './zk-acl';

/** ZooKeeper failures converted once, here, into codes the rest of the code can branch on. */
export type ZkErrorCode = 'NO_NODE' | 'NODE_EXISTS' | 'BAD_VERSION' | 'CONNECTION_LOSS' | 'SESSION_EXPIRED' | 'NO_AUTH' | 'OTHER';

export class ZkError extends Error {
  constructor(
    readonly code: ZkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ZkError';
  }
}

const CODES: ReadonlyArray<[number, ZkErrorCode]> = [
  [zookeeper.Exception.NO_NODE, 'NO_NODE'],
  [zookeeper.Exception.NODE_EXISTS, 'NODE_EXISTS'],
  [zookeeper.Exception.BAD_VERSION, 'BAD_VERSION'],
  [zookeeper.Exception.CONNECTION_LOSS, 'CONNECTION_LOSS'],
  [zookeeper.Exception.OPERATION_TIMEOUT, 'CONNECTION_LOSS'],
  [zookeeper.Exception.SESSION_EXPIRED, 'SESSION_EXPIRED'],
  [zookeeper.Exception.NO_AUTH, 'NO_AUTH'],
];

/** Said with every NO_AUTH: the node's ACL does not let this process's identity do that. */
const NO_AUTH_HINT = 'the node is closed to this process: --zk-auth-file is missing, or not the credentials the cluster was created with (docs/security.md)';

function convert(error: Error | zookeeper.Exception, path: string): ZkError {
  if (error instanceof zookeeper.Exception) {
    const code = CODES.find(([number]) => number === error.getCode())?.[1] ?? 'OTHER';
    const hint = code === 'NO_AUTH' ? `: ${NO_AUTH_HINT}` : '';
    return new ZkError(code, `zookeeper ${error.getName()} at ${path}${hint}`, { cause: error });
  }
  return new ZkError('OTHER', `zookeeper error at ${path}: ${error.message}`, { cause: error });
}

export type CreateMode = 'persistent' | 'ephemeral' | 'ephemeral-sequential';
const MODES: Record<CreateMode, number> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  'ephemeral-sequential': zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

export interface Versioned {
  data: Buffer;
  version: number;
}

/**
 * Called once, when the watched node or its children change (ZooKeeper
 * watches are one-shot). The client arms one function once per path however
 * often it is passed, so a reader that passes the same function on every
 * read is woken once per change.
 */
export type Watcher = () => void;

/** One operation of a multi (a ZooKeeper transaction). */
export type ZkOp =
  | { op: 'check'; path: string; version?: number }
  | { op: 'create'; path: string; data: Buffer; mode: CreateMode }
  | { op: 'setData'; path: string; data: Buffer; version: number }
  | { op: 'remove'; path: string; version: number };

/** What code that works on ZooKeeper needs of a session: ZkSession, or a twin in tests. */
export interface ZkClient {
  readonly isClosed: boolean;
  on(event: 'expired' | 'disconnected' | 'connected', listener: () => void): this;
  close(): void;
  create(path: string, data: Buffer, mode: CreateMode): Promise<string>;
  mkdirp(path: string): Promise<void>;
  getData(path: string, watcher?: Watcher): Promise<Versioned | undefined>;
  getChildren(path: string, watcher?: Watcher): Promise<string[] | undefined>;
  setData(path: string, data: Buffer, version: number): Promise<number>;
  remove(path: string, version?: number): Promise<void>;
  multi(ops: readonly ZkOp[]): Promise<void>;
  /** The node's ACL as `scheme:id:perms`; undefined when it does not exist. */
  getAcl(path: string): Promise<string[] | undefined>;
}

export interface ZkSessionOptions {
  sessionTimeoutMs: number;
  connectTimeoutMs?: number;
  /** Authenticates with this identity on every (re)connect, and closes every node the session creates to anyone else (zk-acl.ts). */
  digest?: ZkDigest | undefined;
}

/**
 * One ZooKeeper session with promise methods. Emits `expired` when
 * ZooKeeper ends the session (every ephemeral node and watch is gone: the
 * owner must open a new session), `disconnected` and `connected` as the
 * connection comes and goes within the session.
 */
export class ZkSession extends EventEmitter implements ZkClient {
  private closed = false;
  /** Fails each call still waiting for an answer: see `call`. */
  private readonly unanswered = new Set<(error: ZkError) => void>();
  private lostTimer: NodeJS.Timeout | undefined;
  private expired = false;

  private constructor(
    private readonly client: zookeeper.Client,
    private readonly lostAfterMs: number,
    /** What every node this session creates gets. */
    private readonly acls: ZkAcls,
  ) {
    super();
    client.on('state', (state) => {
      if (state === zookeeper.State.EXPIRED) this.expire();
      else if (state === zookeeper.State.DISCONNECTED) this.onDisconnected();
      else if (state === zookeeper.State.SYNC_CONNECTED) this.onConnected();
    });
  }

  /**
   * Disconnected for `lostAfterMs`: the session is as good as lost
   * (ZooKeeper expires it, or the client library has stopped trying: seen
   * after ZooKeeper restarts). Treated as expired, like Curator's LOST, so
   * the owner opens a new session instead of waiting forever.
   */
  private onDisconnected(): void {
    this.emit('disconnected');
    this.lostTimer ??= setTimeout(() => this.expire(), this.lostAfterMs);
    this.lostTimer.unref();
  }

  private onConnected(): void {
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
    this.emit('connected');
  }

  private expire(): void {
    clearTimeout(this.lostTimer);
    if (this.expired || this.closed) return;
    this.expired = true;
    this.emit('expired');
  }

  static connect(connectString: string, options: ZkSessionOptions): Promise<ZkSession> {
    const client = zookeeper.createClient(connectString, {
      sessionTimeout: options.sessionTimeoutMs,
      spinDelay: 200,
      retries: 1,
    });
    // Kept by the client and sent again at every reconnect, before any queued request.
    if (options.digest) client.addAuthInfo('digest', options.digest.authData());
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(new ZkError('CONNECTION_LOSS', `could not connect to ZooKeeper at ${connectString} within ${timeoutMs} ms`));
      }, timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(new ZkSession(client, lostAfterMs(connectString, options.sessionTimeoutMs), aclsFor(options.digest)));
      });
      client.connect();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the session; its ephemeral nodes disappear at once, and every call still waiting fails with CONNECTION_LOSS. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lostTimer);
    this.client.close();
    const lost = new ZkError('CONNECTION_LOSS', 'the ZooKeeper session was closed');
    for (const fail of this.unanswered) fail(lost);
    this.unanswered.clear();
  }

  /**
   * Runs one client call. Every call settles: the client keeps a request it
   * queued while disconnected unanswered forever once it is closed, which
   * would hold up whoever waits on it; `close` fails those.
   */
  private call<T>(run: (resolve: (value: T) => void, reject: (error: ZkError) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(new ZkError('CONNECTION_LOSS', 'the ZooKeeper session was closed'));
    return new Promise<T>((resolve, reject) => {
      const fail = (error: ZkError): void => reject(error);
      this.unanswered.add(fail);
      run(
        (value) => {
          this.unanswered.delete(fail);
          resolve(value);
        },
        (error) => {
          this.unanswered.delete(fail);
          reject(error);
        },
      );
    });
  }

  private aclOf(path: string): zookeeper.ACL[] {
    return isSharedParent(path) ? this.acls.sharedParent : this.acls.node;
  }

  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.call((resolve, reject) => {
      this.client.create(path, data, this.aclOf(path), MODES[mode], (error, created) =>
        error ? reject(convert(error, path)) : resolve(created),
      );
    });
  }

  /** Creates `path` and its missing parents as empty persistent nodes (each with its own ACL, which the client's mkdirp cannot give). */
  async mkdirp(path: string): Promise<void> {
    const segments = path.split('/').slice(1);
    for (let depth = 1; depth <= segments.length; depth++) {
      try {
        await this.create(`/${segments.slice(0, depth).join('/')}`, Buffer.alloc(0), 'persistent');
      } catch (error) {
        if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
      }
    }
  }

  /** Sets the node's ACL, whatever its ACL version; the session needs ADMIN on the node. */
  setAcl(path: string, acls: zookeeper.ACL[]): Promise<void> {
    return this.call((resolve, reject) => {
      this.client.setACL(path, acls, -1, (error) => (error ? reject(convert(error, path)) : resolve()));
    });
  }

  /** The node's ACL as `scheme:id:perms` (perms a number, zookeeper.Permission bits); undefined when it does not exist. */
  getAcl(path: string): Promise<string[] | undefined> {
    return this.call((resolve, reject) => {
      this.client.getACL(path, (error, acls) => {
        if (!error) return resolve(acls.map(describeAcl));
        const converted = convert(error, path);
        return converted.code === 'NO_NODE' ? resolve(undefined) : reject(converted);
      });
    });
  }

  /** The node's data and version, or undefined when it does not exist (the watch then fires on its creation). */
  getData(path: string, watcher?: Watcher): Promise<Versioned | undefined> {
    return this.call((resolve, reject) => {
      const done = (error: Error | zookeeper.Exception | null, data: Buffer, stat: zookeeper.Stat): void => {
        if (!error) return resolve({ data: data ?? Buffer.alloc(0), version: stat.version });
        const converted = convert(error, path);
        if (converted.code !== 'NO_NODE') return reject(converted);
        if (!watcher) return resolve(undefined);
        // getData sets no watch on a missing node: exists() does, and fires on creation.
        this.client.exists(path, watcher, (existsError, stat) => {
          if (existsError) return reject(convert(existsError, path));
          if (stat) watcher(); // created in between: let the owner read again
          resolve(undefined);
        });
      };
      if (watcher) this.client.getData(path, watcher, done);
      else this.client.getData(path, done);
    });
  }

  /** The node's children, or undefined when the node does not exist. */
  getChildren(path: string, watcher?: Watcher): Promise<string[] | undefined> {
    return this.call((resolve, reject) => {
      const done = (error: Error | zookeeper.Exception | null, children: string[]): void => {
        if (!error) return resolve(children);
        const converted = convert(error, path);
        return converted.code === 'NO_NODE' ? resolve(undefined) : reject(converted);
      };
      if (watcher) this.client.getChildren(path, watcher, done);
      else this.client.getChildren(path, done);
    });
  }

  /** Compare-and-set: writes only if the node is still at `version`; returns the new version. */
  setData(path: string, data: Buffer, version: number): Promise<number> {
    return this.call((resolve, reject) => {
      this.client.setData(path, data, version, (error, stat) =>
        error ? reject(convert(error, path)) : resolve(stat.version),
      );
    });
  }

  remove(path: string, version = -1): Promise<void> {
    return this.call((resolve, reject) => {
      this.client.remove(path, version, (error) => {
        if (!error) return resolve();
        const converted = convert(error, path);
        return converted.code === 'NO_NODE' ? resolve() : reject(converted);
      });
    });
  }

  /**
   * All of `ops` or none. Rejects with the code of the operation that failed
   * (e.g. NO_NODE for a `check` of a node that is gone, BAD_VERSION for a
   * `setData` whose version moved on); then nothing was changed.
   */
  multi(ops: readonly ZkOp[]): Promise<void> {
    const transaction = this.client.transaction();
    for (const op of ops) {
      if (op.op === 'check') transaction.check(op.path, op.version);
      else if (op.op === 'create') transaction.create(op.path, op.data, this.aclOf(op.path), MODES[op.mode]);
      else if (op.op === 'setData') transaction.setData(op.path, op.data, op.version);
      else transaction.remove(op.path, op.version);
      if (op.op !== 'create' && op.version !== undefined) keepExactVersion(transaction, op.version);
    }
    return this.call((resolve, reject) => {
      transaction.commit((error, results: unknown) => {
        if (!error) return resolve();
        const failed = Array.isArray(results) ? results.findIndex((result: { err?: number }) => result.err !== undefined && result.err !== 0) : -1;
        reject(convert(error, ops[failed]?.path ?? ops.map((op) => op.path).join(', ')));
      });
    });
  }
}

/** The client's ACL objects carry `permission`, which its type declarations call `perms`. */
function describeAcl(acl: zookeeper.ACL): string {
  const { permission } = acl as unknown as { permission: number };
  return `${acl.id.scheme}:${acl.id.id}:${permission}`;
}

/**
 * How long a session may stay disconnected before it counts as lost. An
 * ensemble that loses its leader serves no one while it elects another,
 * and the new leader gives every session a whole timeout again: a session
 * cut off by an election is alive for the election plus its timeout. The
 * election can outlast the outage: a member left alone doubles the wait
 * between its election notifications, so one whose peer comes back after
 * R ms may not hear of it until about 2R (seen: alone 4.4 s, elected 6.5 s
 * after the peer's return; cut off 2.8 timeouts in all on a loaded CI
 * host). So a connect string with several servers allows four timeouts.
 */
function lostAfterMs(connectString: string, sessionTimeoutMs: number): number {
  const servers = connectString.split('/')[0].split(',').filter((server) => server.trim() !== '').length;
  return servers > 1 ? 4 * sessionTimeoutMs : sessionTimeoutMs;
}

/**
 * node-zookeeper-client's Transaction turns a version of 0 into -1, "any
 * version" (alexguan/node-zookeeper-client#67), which would make a
 * compare-and-set on a node never written since its creation unconditional.
 * The operation just added is given the version meant.
 */
function keepExactVersion(transaction: zookeeper.Transaction, version: number): void {
  const ops = (transaction as unknown as { ops?: { version?: number }[] }).ops;
  const last = ops?.at(-1);
  assert.ok(last && 'version' in last, 'node-zookeeper-client changed its Transaction: the version-0 workaround needs a look');
  last.version = version;
}
