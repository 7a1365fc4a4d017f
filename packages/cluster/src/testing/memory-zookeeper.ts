import { EventEmitter } from 'node:events';
import { ZkError, type CreateMode, type Versioned, type Watcher, type ZkClient, type ZkErrorCode, type ZkOp } from '../zk/session';

interface ZNode {
  data: Buffer;
  version: number;
  /** The session whose end deletes it; undefined for a persistent node. */
  owner: MemoryZkSession | undefined;
  /** The next sequence number of a sequential child. */
  nextSequence: number;
}

type WatchKind = 'data' | 'children';
type Tree = Map<string, ZNode>;
/** A watch to fire once the change that triggered it is in: on `path`, of `kind`. */
type Trigger = [path: string, kind: WatchKind];

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function fail(code: ZkErrorCode, path: string): never {
  throw new ZkError(code, `zookeeper ${code} at ${path}`);
}

/**
 * ZooKeeper in memory, for unit tests: one tree shared by any number of
 * sessions, with versions, ephemeral and sequential nodes, multi, and
 * one-shot watches that, like the real client's, arm one function once per
 * path and fire on a later turn of the event loop. A test can count reads,
 * make reads fail, cut a session's connection and expire it.
 */
export class MemoryZooKeeper {
  private tree: Tree = new Map([['/', { data: Buffer.alloc(0), version: 0, owner: undefined, nextSequence: 0 }]]);
  private readonly sessions = new Set<MemoryZkSession>();
  /** getData and getChildren calls per path, from every session. */
  readonly reads = new Map<string, number>();

  connect(): MemoryZkSession {
    const session = new MemoryZkSession(this);
    this.sessions.add(session);
    return session;
  }

  readCount(path: string): number {
    return this.reads.get(path) ?? 0;
  }

  /** The node as stored, or undefined. */
  get(path: string): Versioned | undefined {
    const node = this.tree.get(path);
    return node && { data: node.data, version: node.version };
  }

  children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.tree.keys()].filter((key) => key !== '/' && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')).map((key) => key.slice(prefix.length)).sort();
  }

  /** An operator's write: sets the data whatever the version, creating the node (and parents) if needed. */
  write(path: string, data: Buffer | string): void {
    const triggers: Trigger[] = [];
    const tree = new Map(this.tree);
    let at = '';
    for (const part of parentOf(path).split('/').filter(Boolean)) {
      at = `${at}/${part}`;
      if (!tree.has(at)) this.createIn(tree, at, Buffer.alloc(0), 'persistent', undefined, triggers);
    }
    const bytes = Buffer.from(data);
    if (tree.has(path)) this.setIn(tree, path, bytes, -1, triggers);
    else this.createIn(tree, path, bytes, 'persistent', undefined, triggers);
    this.commit(tree, triggers);
  }

  /** An operator's delete, whatever the version. */
  delete(path: string): void {
    const tree = new Map(this.tree);
    const triggers: Trigger[] = [];
    this.removeIn(tree, path, -1, triggers);
    this.commit(tree, triggers);
  }

  /** Runs `ops` on a copy of the tree and keeps it only if every one succeeded. */
  apply(session: MemoryZkSession | undefined, ops: readonly ZkOp[]): string[] {
    const tree = new Map(this.tree);
    const triggers: Trigger[] = [];
    const results = ops.map((op) => {
      if (op.op === 'check') {
        const node = tree.get(op.path) ?? fail('NO_NODE', op.path);
        if (op.version !== undefined && op.version !== -1 && op.version !== node.version) fail('BAD_VERSION', op.path);
        return op.path;
      }
      if (op.op === 'create') return this.createIn(tree, op.path, op.data, op.mode, session, triggers);
      if (op.op === 'setData') return this.setIn(tree, op.path, op.data, op.version, triggers);
      return this.removeIn(tree, op.path, op.version, triggers);
    });
    this.commit(tree, triggers);
    return results;
  }

  /** The session's ephemeral nodes go, as when ZooKeeper ends it. */
  endSession(session: MemoryZkSession): void {
    this.sessions.delete(session);
    const tree = new Map(this.tree);
    const triggers: Trigger[] = [];
    for (const [path, node] of this.tree) if (node.owner === session) this.removeIn(tree, path, -1, triggers);
    this.commit(tree, triggers);
  }

  countRead(path: string): void {
    this.reads.set(path, this.readCount(path) + 1);
  }

  nodeAt(path: string): ZNode | undefined {
    return this.tree.get(path);
  }

  private createIn(tree: Tree, path: string, data: Buffer, mode: CreateMode, session: MemoryZkSession | undefined, triggers: Trigger[]): string {
    const parentPath = parentOf(path);
    const parent = tree.get(parentPath) ?? fail('NO_NODE', path);
    if (parent.owner) fail('OTHER', path); // ephemeral nodes have no children
    let created = path;
    if (mode === 'ephemeral-sequential') {
      created = `${path}${String(parent.nextSequence).padStart(10, '0')}`;
      tree.set(parentPath, { ...parent, nextSequence: parent.nextSequence + 1 });
    }
    if (tree.has(created)) fail('NODE_EXISTS', created);
    const owner = mode === 'persistent' ? undefined : (session ?? fail('OTHER', path));
    tree.set(created, { data, version: 0, owner, nextSequence: 0 });
    triggers.push([created, 'data'], [parentPath, 'children']);
    return created;
  }

  private setIn(tree: Tree, path: string, data: Buffer, version: number, triggers: Trigger[]): string {
    const node = tree.get(path) ?? fail('NO_NODE', path);
    if (version !== -1 && version !== node.version) fail('BAD_VERSION', path);
    tree.set(path, { ...node, data, version: node.version + 1 });
    triggers.push([path, 'data']);
    return path;
  }

  private removeIn(tree: Tree, path: string, version: number, triggers: Trigger[]): string {
    const node = tree.get(path) ?? fail('NO_NODE', path);
    if (version !== -1 && version !== node.version) fail('BAD_VERSION', path);
    if ([...tree.keys()].some((key) => parentOf(key) === path && key !== path)) fail('OTHER', path);
    tree.delete(path);
    triggers.push([path, 'data'], [path, 'children'], [parentOf(path), 'children']);
    return path;
  }

  private commit(tree: Tree, triggers: readonly Trigger[]): void {
    this.tree = tree;
    for (const session of this.sessions) for (const [path, kind] of triggers) session.trigger(path, kind);
  }
}

/** One session on a MemoryZooKeeper: a ZkClient. */
export class MemoryZkSession extends EventEmitter implements ZkClient {
  private closed = false;
  private expired = false;
  private connected = true;
  private failingReads = 0;
  private hanging = false;
  /** Fails the calls left hanging, when the session ends. */
  private readonly hung = new Set<(error: ZkError) => void>();
  private readonly watches: Record<WatchKind, Map<string, Set<Watcher>>> = { data: new Map(), children: new Map() };

  constructor(private readonly zookeeper: MemoryZooKeeper) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The next `count` reads fail with CONNECTION_LOSS (and arm nothing). */
  failReads(count: number): void {
    this.failingReads = count;
  }

  /** From now on no call answers until the session ends (then they fail), like one queued on a client whose connection never comes back. */
  hang(): void {
    this.hanging = true;
  }

  /** The connection drops; the session lives on. Calls fail with CONNECTION_LOSS. */
  disconnect(): void {
    this.connected = false;
    this.emit('disconnected');
  }

  reconnect(): void {
    this.connected = true;
    this.emit('connected');
  }

  /** ZooKeeper ends the session: its ephemeral nodes and watches go, and it says so. */
  expire(): void {
    if (this.expired || this.closed) return;
    this.expired = true;
    this.failHung(new ZkError('SESSION_EXPIRED', 'the session expired'));
    this.dropWatches();
    this.zookeeper.endSession(this);
    this.emit('expired');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failHung(new ZkError('CONNECTION_LOSS', 'the session was closed'));
    this.dropWatches();
    if (!this.expired) this.zookeeper.endSession(this);
  }

  async create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    await this.roundTrip(path);
    return this.zookeeper.apply(this, [{ op: 'create', path, data, mode }])[0]!;
  }

  /** The twin keeps no ACLs: every node is open, as without --zk-auth-file. */
  async getAcl(path: string): Promise<string[] | undefined> {
    await this.roundTrip(path);
    return this.zookeeper.nodeAt(path) ? ['world:anyone:31'] : undefined;
  }

  async mkdirp(path: string): Promise<void> {
    await this.roundTrip(path);
    let at = '';
    for (const part of path.split('/').filter(Boolean)) {
      at = `${at}/${part}`;
      if (!this.zookeeper.nodeAt(at)) this.zookeeper.apply(this, [{ op: 'create', path: at, data: Buffer.alloc(0), mode: 'persistent' }]);
    }
  }

  async getData(path: string, watcher?: Watcher): Promise<Versioned | undefined> {
    await this.read(path);
    // Armed on a missing node too, as ZkSession does with exists(): it fires on creation.
    if (watcher) this.arm('data', path, watcher);
    return this.zookeeper.get(path);
  }

  async getChildren(path: string, watcher?: Watcher): Promise<string[] | undefined> {
    await this.read(path);
    if (!this.zookeeper.nodeAt(path)) return undefined;
    if (watcher) this.arm('children', path, watcher);
    return this.zookeeper.children(path);
  }

  async setData(path: string, data: Buffer, version: number): Promise<number> {
    await this.roundTrip(path);
    this.zookeeper.apply(this, [{ op: 'setData', path, data, version }]);
    return this.zookeeper.get(path)!.version;
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.roundTrip(path);
    if (!this.zookeeper.nodeAt(path)) return;
    this.zookeeper.apply(this, [{ op: 'remove', path, version }]);
  }

  async multi(ops: readonly ZkOp[]): Promise<void> {
    await this.roundTrip(ops[0]?.path ?? '/');
    this.zookeeper.apply(this, ops);
  }

  /** Fires (on a later turn) and disarms the watchers of `path`. */
  trigger(path: string, kind: WatchKind): void {
    const watchers = this.watches[kind].get(path);
    if (!watchers) return;
    this.watches[kind].delete(path);
    setImmediate(() => {
      if (!this.closed && !this.expired) for (const watcher of watchers) watcher();
    });
  }

  private arm(kind: WatchKind, path: string, watcher: Watcher): void {
    const watchers = this.watches[kind].get(path) ?? new Set<Watcher>();
    watchers.add(watcher);
    this.watches[kind].set(path, watchers);
  }

  private async read(path: string): Promise<void> {
    await this.roundTrip(path);
    this.zookeeper.countRead(path);
    if (this.failingReads > 0) {
      this.failingReads--;
      fail('CONNECTION_LOSS', path);
    }
  }

  /** A call answers on a later turn, and only on a live, connected session. */
  private async roundTrip(path: string): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.hanging) await new Promise((_, reject) => this.hung.add(reject));
    if (this.expired || this.closed) fail('SESSION_EXPIRED', path);
    if (!this.connected) fail('CONNECTION_LOSS', path);
  }

  private failHung(error: ZkError): void {
    for (const fail of this.hung) fail(error);
    this.hung.clear();
  }

  private dropWatches(): void {
    this.watches.data.clear();
    this.watches.children.clear();
  }
}
