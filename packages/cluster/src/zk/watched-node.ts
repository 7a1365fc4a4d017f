import { RecordError } from '@kvstore/protocol';
import { ZkError, type Versioned, type Watcher } from './session';

/** What a watch reads through: a ZkSession, or a twin in tests. */
export interface WatchSource {
  readonly isClosed: boolean;
  getData(path: string, watcher?: Watcher): Promise<Versioned | undefined>;
  getChildren(path: string, watcher?: Watcher): Promise<string[] | undefined>;
}

/** A record in ZooKeeper that does not parse: where, and why. */
export interface RecordProblem {
  path: string;
  error: string;
}

export interface WatchLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** Something that follows part of ZooKeeper with watches, on one session at a time. */
export interface Watch {
  /**
   * Reads on `source` from now on, and again after every change, until the
   * source closes or expires or another source is attached. Resolves once
   * the first read is in. Attaching the same source again changes nothing.
   */
  attach(source: WatchSource): Promise<void>;
  /** No more reads; a watch that fires later is ignored. */
  stop(): void;
  /** The malformed records it currently holds on to a good value in spite of. */
  problems(): RecordProblem[];
}

/** Reads the node with `watcher` armed; throws RecordError for a malformed record. Undefined: no such node. */
export type NodeReader<T> = (source: WatchSource, path: string, watcher: Watcher) => Promise<T | undefined>;

const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 2000;

/**
 * One node (or one node's children) followed by a watch. One watcher
 * function serves every read, so the client arms it once per change and N
 * changes cause at most N reads; a change during a read causes one more.
 * A malformed record is logged once and reported by `problem`, while
 * `value` keeps the last good one. A failed read is retried with a backoff
 * up to 2 s; a closed or expired session ends the reads (the owner attaches
 * the next one).
 */
export class WatchedNode<T> implements Watch {
  /** The last good value; undefined while the node is absent, or before anything good was read. */
  value: T | undefined;
  problem: RecordProblem | undefined;
  private source: WatchSource | undefined;
  private stopped = false;
  /** A read loop runs on the current source. One on an earlier source may still wait for an answer that never comes: it is ignored. */
  private reading = false;
  private again = false;
  private done: Promise<void> = Promise.resolve();
  private readWaiters: (() => void)[] = [];
  /** Ends the backoff between retries early (on stop). */
  private cancelPause: (() => void) | undefined;
  private readonly watcher: Watcher = () => void this.wake();

  constructor(
    readonly path: string,
    private readonly read: NodeReader<T>,
    private readonly onChange: () => void,
    private readonly logger: WatchLogger,
  ) {}

  attach(source: WatchSource): Promise<void> {
    if (source === this.source || this.stopped) return this.done;
    this.source = source;
    this.reading = false;
    this.cancelPause?.();
    return this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.source = undefined;
    this.cancelPause?.();
    this.settleReadWaiters();
  }

  /** Resolves once the next read is in (good or malformed), or on stop: for an owner waiting for a record to be fixed. */
  nextRead(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.readWaiters.push(resolve));
  }

  problems(): RecordProblem[] {
    return this.problem ? [this.problem] : [];
  }

  private wake(): Promise<void> {
    if (this.stopped) return this.done;
    this.again = true;
    if (!this.reading && this.source) {
      this.reading = true;
      this.done = this.loop(this.source);
    }
    return this.done;
  }

  private async loop(source: WatchSource): Promise<void> {
    let failures = 0;
    while (this.again && !this.stopped && !source.isClosed) {
      this.again = false;
      try {
        const value = await this.read(source, this.path, this.watcher);
        if (source !== this.source) return; // attached elsewhere meanwhile: that source has a loop of its own
        if (failures > 0) this.logger.info({ path: this.path }, 'ZooKeeper read works again');
        failures = 0;
        this.accept(value);
      } catch (error) {
        if (source !== this.source) return;
        if (error instanceof RecordError) {
          this.reject(error);
        } else if (error instanceof ZkError && error.code === 'SESSION_EXPIRED') {
          break;
        } else {
          if (failures === 0) this.logger.warn({ err: error, path: this.path }, 'ZooKeeper read failed; retrying');
          failures++;
          this.again = true;
          await this.pause(Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (failures - 1)));
          if (source !== this.source) return;
        }
      }
    }
    this.reading = false;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cancelPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private accept(value: T | undefined): void {
    this.value = value;
    if (this.problem) this.logger.info({ path: this.path }, 'record is well-formed again');
    this.problem = undefined;
    this.onChange();
    this.settleReadWaiters();
  }

  private reject(error: RecordError): void {
    if (this.problem?.error !== error.message) {
      this.logger.warn({ path: this.path, error: error.message }, 'malformed record in ZooKeeper: keeping the last good one');
    }
    this.problem = { path: this.path, error: error.message };
    this.onChange();
    this.settleReadWaiters();
  }

  private settleReadWaiters(): void {
    const waiters = this.readWaiters;
    this.readWaiters = [];
    for (const resolve of waiters) resolve();
  }
}


/** A node's record, parsed; a parser's RecordError makes it a problem. */
export function watchRecord<T>(path: string, parse: (data: Buffer) => T, onChange: () => void, logger: WatchLogger): WatchedNode<T> {
  return new WatchedNode(path, async (source, at, watcher) => {
    const node = await source.getData(at, watcher);
    return node && parse(node.data);
  }, onChange, logger);
}

/** A node's children, sorted; undefined while the node is absent (its creation wakes the watch). */
function watchChildNames(path: string, onChange: () => void, logger: WatchLogger): WatchedNode<string[]> {
  return new WatchedNode(path, readChildNames, onChange, logger);
}

async function readChildNames(source: WatchSource, path: string, watcher: Watcher): Promise<string[] | undefined> {
  for (;;) {
    const children = await source.getChildren(path, watcher);
    if (children) return [...children].sort();
    // getChildren arms nothing on a missing node; getData arms a watch on its creation.
    if (!(await source.getData(path, watcher))) return undefined;
  }
}

/**
 * A node's children, each followed by a Watch of its own made by `make`
 * (which may refuse a name with undefined). A child that goes away has its
 * watch stopped. While a source is being attached, `onChange` is held back
 * until every child has been read once, so the owner never sees half a list.
 */
export class WatchedChildren<C extends Watch> implements Watch {
  readonly children = new Map<string, C>();
  private readonly names: WatchedNode<string[]>;
  private source: WatchSource | undefined;
  private attaching = 0;

  constructor(
    readonly path: string,
    private readonly make: (name: string, notify: () => void) => C | undefined,
    private readonly onChange: () => void,
    logger: WatchLogger,
  ) {
    this.names = watchChildNames(path, () => this.sync(), logger);
  }

  async attach(source: WatchSource): Promise<void> {
    this.source = source;
    this.attaching++;
    try {
      await this.names.attach(source);
      await Promise.all([...this.children.values()].map((child) => child.attach(source)));
    } finally {
      this.attaching--;
    }
    this.notify();
  }

  stop(): void {
    this.source = undefined;
    this.names.stop();
    for (const child of this.children.values()) child.stop();
  }

  problems(): RecordProblem[] {
    return [...this.names.problems(), ...[...this.children.values()].flatMap((child) => child.problems())];
  }

  private sync(): void {
    const names = new Set(this.names.value ?? []);
    for (const [name, child] of this.children) {
      if (names.has(name)) continue;
      child.stop();
      this.children.delete(name);
    }
    for (const name of names) {
      if (this.children.has(name)) continue;
      const child = this.make(name, () => this.notify());
      if (!child) continue;
      this.children.set(name, child);
      if (this.source) void child.attach(this.source);
    }
    this.notify();
  }

  private notify(): void {
    if (this.attaching === 0) this.onChange();
  }
}
