import { DeposedError, type IsrCoordination, type IsrChange, type Logger, type Member } from './types';

export interface InSyncSetDeps {
  self: Member;
  epoch: number;
  isr: readonly string[];
  /** The incarnation `/state` records for each in-sync member (see StateRecord.incarnations). */
  incarnations: Readonly<Record<string, string>>;
  /** Taken out for maintenance: never added back (StateRecord.excluded). */
  excluded: readonly string[];
  coordination: IsrCoordination;
  logger: Logger;
  /** A change was stored (or failed): commits and reads may move on. */
  onChanged(): void;
  onDeposed(epoch: number, reason: string): void;
}

/**
 * A leader's view of its partition's in-sync set, changed only through
 * ZooKeeper and in an order that keeps acknowledged writes safe: a
 * follower is required locally *before* it is added in ZooKeeper, and stays
 * required until its removal is stored there. Changes run one at a time,
 * each a compare-and-set on `/state`.
 */
export class InSyncSet {
  private members: Set<string>;
  private readonly incarnations: Map<string, string>;
  private excluded: Set<string>;
  private readonly adding = new Set<string>();
  private readonly removing = new Set<string>();
  private changes: Promise<void> = Promise.resolve();
  private active = true;

  constructor(private readonly deps: InSyncSetDeps) {
    this.members = new Set([...deps.isr, deps.self.id]);
    this.incarnations = new Map(Object.entries(deps.incarnations));
    this.excluded = new Set(deps.excluded);
  }

  get size(): number {
    return this.members.size;
  }

  get sorted(): string[] {
    return [...this.members].sort();
  }

  /** In the set as ZooKeeper stores it (not merely being added). */
  isStored(id: string): boolean {
    return this.members.has(id) && !this.removing.has(id);
  }

  isExcluded(id: string): boolean {
    return this.excluded.has(id);
  }

  /** In the set, or being added to it. */
  includes(id: string): boolean {
    return this.members.has(id) || this.adding.has(id);
  }

  /** Whom a commit waits for (sync mode) and whom a strong read asks (every mode): the set and those being added, less the leader. */
  followers(): string[] {
    return [...new Set([...this.members, ...this.adding])].filter((id) => id !== this.deps.self.id);
  }

  /** `/state` as ZooKeeper has it (a follower may have resigned its place). */
  observe(isr: readonly string[], excluded: readonly string[]): void {
    this.members = new Set([...isr, this.deps.self.id]);
    this.excluded = new Set(excluded);
  }

  /** A member registered anew since `/state` recorded it in sync: it restarted, maybe with less than it had. */
  hasRestarted(member: Member): boolean {
    const recorded = this.incarnations.get(member.id);
    return recorded !== undefined && member.incarnation !== undefined && recorded !== member.incarnation;
  }

  /** Adds a follower that holds every committed entry; the incarnation that proved it is recorded. */
  add(member: Member): void {
    const { id } = member;
    if (this.includes(id) || this.excluded.has(id)) return;
    this.adding.add(id);
    void this.change({ add: member }, () => {
      this.members.add(id);
      if (member.incarnation !== undefined) this.incarnations.set(id, member.incarnation);
    }, () => this.adding.delete(id));
  }

  remove(id: string, reason: string): void {
    if (this.removing.has(id)) return;
    this.removing.add(id);
    this.deps.logger.warn({ follower: id, reason }, 'removing follower from the in-sync set');
    void this.change({ remove: id }, () => {
      this.members.delete(id);
      this.adding.delete(id);
      this.incarnations.delete(id);
    }, () => this.removing.delete(id));
  }

  /** Takes a follower out and keeps it out (maintenance); resolves once ZooKeeper has it, false if that failed. */
  exclude(id: string): Promise<boolean> {
    this.deps.logger.warn({ follower: id }, 'taking follower out of the in-sync set for maintenance');
    this.removing.add(id);
    return this.change({ exclude: id }, () => {
      this.members.delete(id);
      this.adding.delete(id);
      this.incarnations.delete(id);
      this.excluded.add(id);
    }, () => this.removing.delete(id));
  }

  /** The term ended: changes still queued are dropped. */
  stop(): void {
    this.active = false;
  }

  /** Queues one change; resolves to whether it was stored. */
  private change(change: IsrChange, onStored: () => void, always: () => void): Promise<boolean> {
    let stored = false;
    this.changes = this.changes.then(async () => {
      if (!this.active) return always();
      try {
        const isr = await this.deps.coordination.updateIsr(this.deps.epoch, change);
        stored = true;
        if (this.active) {
          onStored();
          this.members = new Set([...isr, this.deps.self.id]);
        }
      } catch (error) {
        if (error instanceof DeposedError) this.deps.onDeposed(this.deps.epoch, error.message);
        else this.deps.logger.error({ err: error, change }, 'could not change the in-sync set');
      } finally {
        always();
      }
      if (this.active) this.deps.onChanged();
    });
    return this.changes.then(() => stored);
  }
}
