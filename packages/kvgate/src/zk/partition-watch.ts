import {
  WatchedChildren,
  watchRecord,
  type RecordProblem,
  type Watch,
  type WatchLogger,
  type WatchSource,
  type WatchedNode,
} from '@kvstore/cluster';
import {
  parseLeader,
  parseMember,
  parseState,
  type ClusterPaths,
  type LeaderRecord,
  type MemberRecord,
  type StateRecord,
} from '@kvstore/protocol';
import type { PartitionRecords } from '../routing/snapshot';

/** One partition's leader node, state and members, each followed by a watch. */
export class PartitionWatch implements Watch {
  private readonly leader: WatchedNode<LeaderRecord>;
  private readonly state: WatchedNode<StateRecord>;
  private readonly members: WatchedChildren<WatchedNode<MemberRecord>>;

  constructor(paths: ClusterPaths, name: string, onChange: () => void, logger: WatchLogger) {
    this.leader = watchRecord(paths.leader(name), parseLeader, onChange, logger);
    this.state = watchRecord(paths.state(name), parseState, onChange, logger);
    const membersPath = paths.members(name);
    this.members = new WatchedChildren(
      membersPath,
      (member, notify) => watchRecord(`${membersPath}/${member}`, parseMember, notify, logger),
      onChange,
      logger,
    );
  }

  async attach(source: WatchSource): Promise<void> {
    await Promise.all([this.leader.attach(source), this.state.attach(source), this.members.attach(source)]);
  }

  stop(): void {
    for (const watch of [this.leader, this.state, this.members]) watch.stop();
  }

  problems(): RecordProblem[] {
    return [this.leader, this.state, this.members].flatMap((watch) => watch.problems());
  }

  /** The last good records, in member node order. */
  records(): PartitionRecords {
    const members = [...this.members.children.values()].flatMap((watch) => (watch.value ? [watch.value] : []));
    const records: PartitionRecords = { members };
    if (this.leader.value) records.leader = this.leader.value;
    if (this.state.value) records.state = this.state.value;
    return records;
  }
}
