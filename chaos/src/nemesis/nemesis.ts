import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster } from '../cluster';
import type { FaultEvent, HistoryOperation } from '../history';
import * as kit from '@kvstore/testkit';
import { ZkSession, abortMigration, beginMigration } from '@kvstore/cluster';
import { clusterPaths, isMigrationActive, parseMigration } from '@kvstore/protocol';
import type { FaultKind } from '../options';
import { Random } from '../random';
import type { Forger } from './forge';

/** One fault of the schedule, decided from the seed before the run starts. */
export interface PlannedFault {
  kind: FaultKind;
  /** Quiet time before it, after the previous fault healed. */
  gapMs: number;
  /** How long it lasts before it is healed. */
  holdMs: number;
  /** Index into the sorted partitions (replica faults). */
  partition: number;
  /** Replica faults: hit the current leader, or a follower; zk-member: the ensemble's leader, or a follower. */
  role: 'leader' | 'follower';
  /** Which follower, gate, or fallback replica (an index, modulo the candidates). */
  pick: number;
  /** lag-kill: how long the followers' inbound links hold what reaches them. */
  lagMs?: number;
}

/**
 * lag-kill's lag: long enough that the append carrying a commit point is
 * still in the proxy when the leader dies, short enough that the lagging
 * followers answer appends within the replica timeout (REPLICA_TIMEOUT_MS)
 * and stay in sync.
 */
export const LAG_MS = [150, 250] as const;
/** How long a reshard fault's heal waits for the removal to finish before it aborts it. */
const RESHARD_WAIT_MS = 60_000;
/** How long a lag-kill waits for a lock write to time the kill on; then it kills anyway. */
const LOCK_WRITE_WAIT_MS = 3000;

/**
 * The fault schedule for `durationMs`: the kinds in seeded shuffled rounds (so
 * every enabled kind comes up), each after a quiet gap of 3–6 s and held for a
 * few seconds; pauses and cuts outlast the session timeout, so that the
 * victim's ZooKeeper session expires while it cannot notice.
 */
export function planFaults(seed: number, kinds: readonly FaultKind[], durationMs: number, sessionTimeoutMs: number): PlannedFault[] {
  const rng = Random.stream(seed, 'nemesis');
  const plan: PlannedFault[] = [];
  if (kinds.length === 0) return plan;
  let round: FaultKind[] = [];
  // Generous: the run stops taking faults that would not heal before the end.
  for (let total = 0; total < durationMs; ) {
    if (round.length === 0) round = rng.shuffle(kinds);
    const kind = round.shift() as FaultKind;
    const gapMs = plan.length === 0 ? rng.between(2000, 4000) : rng.between(3000, 6000);
    let holdMs: number;
    switch (kind) {
      case 'kill':
        holdMs = rng.between(1000, 4000);
        break;
      case 'pause':
        holdMs = sessionTimeoutMs + rng.between(1000, 3000);
        break;
      case 'gate':
        holdMs = rng.between(1500, 4000);
        break;
      case 'zk':
      case 'zk-member':
        holdMs = rng.between(2000, 5000);
        break;
      case 'partition':
        holdMs = sessionTimeoutMs + rng.between(1000, 4000);
        break;
      case 'forge':
        holdMs = rng.between(500, 1000);
        break;
      case 'reshard':
      case 'maintenance':
        holdMs = rng.between(2000, 5000);
        break;
      case 'transfer':
        holdMs = rng.between(500, 1500);
        break;
      case 'lag-kill':
        // The new leader is elected under the lag, once the killed one's session has expired.
        holdMs = sessionTimeoutMs + rng.between(1000, 3000);
        break;
    }
    const role = kind === 'pause' || kind === 'lag-kill' || rng.chance(0.7) ? 'leader' : 'follower';
    const lag = kind === 'lag-kill' ? { lagMs: rng.between(...LAG_MS) } : {};
    plan.push({ kind, gapMs, holdMs, partition: rng.int(1000), role, pick: rng.int(1000), ...lag });
    total += gapMs + holdMs;
  }
  return plan;
}

interface ActiveFault {
  event: FaultEvent;
  heal: () => Promise<void>;
  leaderBefore?: string;
  key?: string;
}

/** Published when a fault is in place, and when it is healed: the workload reacts to both. */
export interface FaultNotice {
  phase: 'injected' | 'healed';
  event: FaultEvent;
  /** Replica faults: the partition's leader just before the fault, as a gate saw it. */
  leaderBefore?: string;
  /** lag-kill: the lock key whose acknowledged write the kill was timed on. */
  key?: string;
}

export interface NemesisOptions {
  cluster: ChaosCluster;
  plan: readonly PlannedFault[];
  log: (line: string) => void;
  /** Sends the `forge` fault's requests. */
  forger: Forger;
  /** The workload keys a partition owns: the forger writes to some of them. */
  keysOf: (partition: string) => string[];
  /** The next lock write acknowledged on `partition` that a lag-kill may time its kill on; undefined if none within `withinMs`. */
  nextLockWrite: (partition: string, withinMs: number) => Promise<HistoryOperation | undefined>;
}

/**
 * Injects the planned faults into the cluster one at a time and heals each;
 * `healAll` puts everything back, whatever state the run was interrupted in.
 * Processes are signalled only through their ManagedProcess (by PID).
 */
export class Nemesis {
  readonly events: FaultEvent[] = [];
  private active: ActiveFault | undefined;
  private stopped = false;
  private readonly paused = new Set<string>();
  private readonly listeners: ((notice: FaultNotice) => void)[] = [];
  private readonly cluster: ChaosCluster;
  private readonly plan: readonly PlannedFault[];
  private readonly log: (line: string) => void;

  constructor(private readonly options: NemesisOptions) {
    this.cluster = options.cluster;
    this.plan = options.plan;
    this.log = options.log;
  }

  /** Calls `listener` right after each fault is injected and right after it is healed. */
  subscribe(listener: (notice: FaultNotice) => void): void {
    this.listeners.push(listener);
  }

  private publish(phase: FaultNotice['phase'], active: ActiveFault): void {
    const notice: FaultNotice = {
      phase,
      event: active.event,
      ...(active.leaderBefore ? { leaderBefore: active.leaderBefore } : {}),
      ...(active.key ? { key: active.key } : {}),
    };
    for (const listener of this.listeners) listener(notice);
  }

  /** Runs the schedule until `until` (ms since the epoch): never starts a fault that would not heal by then. */
  async run(until: number): Promise<void> {
    for (const fault of this.plan) {
      if (this.stopped || Date.now() + fault.gapMs + fault.holdMs + 1000 > until) break;
      await sleep(fault.gapMs);
      if (this.stopped) break;
      try {
        this.active = await this.inject(fault);
      } catch (error) {
        this.log(`nemesis: could not inject ${fault.kind}: ${(error as Error).message}`);
        continue;
      }
      if (!this.active) continue;
      this.publish('injected', this.active);
      await sleep(fault.holdMs);
      await this.healActive();
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async healActive(): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    try {
      await active.heal();
    } catch (error) {
      this.log(`nemesis: healing ${active.event.kind} ${active.event.target} failed: ${(error as Error).message} (healAll retries)`);
    }
    active.event.endedAt = Date.now();
    this.log(`nemesis: healed ${active.event.kind} ${active.event.target}`);
    this.publish('healed', active);
  }

  /** Heals the current fault, then anything else still broken: paused, killed, cut, ZooKeeper down. */
  async healAll(): Promise<void> {
    this.stopped = true;
    await this.healActive();
    const { cluster } = this.cluster;
    for (const id of this.cluster.isolatedReplicas) this.cluster.heal(id);
    for (const id of this.cluster.laggingReplicas) this.cluster.unlag(id);
    for (const id of this.paused) this.cluster.server(id).process.resume();
    this.paused.clear();
    // Restarted together: a member serves only once a majority runs.
    const down = await membersDown(this.cluster);
    if (down.length > 0) {
      this.log(`nemesis: ZooKeeper ${down.map((index) => memberName(index)).join(', ')} down: restarting`);
      await Promise.all(down.map((index) => this.cluster.zookeeper.members[index].restart()));
    }
    for (const server of cluster.servers.values()) {
      if (!server.process.running) {
        this.log(`nemesis: ${server.id} is down: restarting it`);
        await cluster.restartServer(server.id);
      }
    }
    for (const [index, gate] of this.cluster.gates.entries()) {
      if (!gate.process.running) {
        this.log(`nemesis: gate-${index} is down: restarting it`);
        await cluster.restartGate(index);
      }
    }
  }

  private async replicaTarget(fault: PlannedFault): Promise<{ id: string; partition: string; role: string; leader?: string }> {
    const partitions = this.cluster.partitions();
    const partition = partitions[fault.partition % partitions.length];
    const replicas = this.cluster.replicasOf(partition);
    const view = await this.cluster.view();
    const leader = view?.partitions.find((candidate) => candidate.name === partition)?.leader ?? undefined;
    if (fault.role === 'leader' && leader && replicas.includes(leader)) return { id: leader, partition, role: 'leader', leader };
    const followers = replicas.filter((id) => id !== leader);
    return { id: followers[fault.pick % followers.length], partition, role: leader ? 'follower' : 'replica (no known leader)', ...(leader ? { leader } : {}) };
  }

  private begin(kind: string, target: string, partition?: string): FaultEvent {
    const event: FaultEvent = { kind, target, startedAt: Date.now(), ...(partition ? { partition } : {}) };
    this.events.push(event);
    return event;
  }

  private async inject(fault: PlannedFault): Promise<ActiveFault | undefined> {
    const { cluster } = this.cluster;
    switch (fault.kind) {
      case 'kill': {
        const target = await this.replicaTarget(fault);
        const server = this.cluster.server(target.id);
        this.log(`nemesis: SIGKILL ${target.id} (${target.role} of ${target.partition}) for ${fault.holdMs} ms`);
        const event = this.begin('kill', target.id, target.partition);
        await server.process.kill();
        return { event, leaderBefore: target.leader, heal: async () => void (await cluster.restartServer(target.id)) };
      }
      case 'pause': {
        const target = await this.replicaTarget(fault);
        const server = this.cluster.server(target.id);
        this.log(`nemesis: SIGSTOP ${target.id} (${target.role} of ${target.partition}) for ${fault.holdMs} ms`);
        const event = this.begin('pause', target.id, target.partition);
        server.process.pause();
        this.paused.add(target.id);
        return {
          event,
          leaderBefore: target.leader,
          heal: async () => {
            server.process.resume();
            this.paused.delete(target.id);
          },
        };
      }
      case 'gate': {
        const index = fault.pick % this.cluster.gates.length;
        this.log(`nemesis: SIGKILL gate-${index} for ${fault.holdMs} ms`);
        const event = this.begin('gate', `gate-${index}`);
        await this.cluster.gates[index].process.kill();
        return { event, heal: async () => void (await cluster.restartGate(index)) };
      }
      case 'zk-member':
        return this.killZooKeeperMember(fault);
      case 'zk': {
        this.log(`nemesis: stopping ZooKeeper for ${fault.holdMs} ms`);
        const event = this.begin('zk', 'zookeeper');
        await this.cluster.zookeeper.stop();
        return { event, heal: () => this.cluster.zookeeper.restart() };
      }
      case 'partition': {
        const target = await this.replicaTarget(fault);
        this.log(`nemesis: cutting ${target.id} (${target.role} of ${target.partition}) off for ${fault.holdMs} ms`);
        const event = this.begin('partition', target.id, target.partition);
        this.cluster.isolate(target.id);
        return { event, leaderBefore: target.leader, heal: async () => this.cluster.heal(target.id) };
      }
      case 'forge': {
        const target = await this.replicaTarget(fault);
        const server = this.cluster.server(target.id);
        const keys = this.options.keysOf(target.partition);
        this.log(`nemesis: forging internal requests (no cluster secret, epoch 2^52) to ${target.id} (${target.role} of ${target.partition})`);
        const event = this.begin('forge', target.id, target.partition);
        const sent = await this.options.forger.forge({ replica: target.id, url: `http://127.0.0.1:${server.port}`, keys });
        const accepted = sent.filter((request) => request.outcome === 'accepted');
        event.detail = `${sent.length} forged requests: ${accepted.length} accepted, ${sent.length - accepted.length} refused`;
        for (const request of sent) this.log(`nemesis: forged ${request.request} to ${target.id}: ${request.outcome.toUpperCase()} (${request.detail})`);
        return { event, leaderBefore: target.leader, heal: async () => undefined };
      }
      case 'lag-kill':
        return this.lagKill(fault);
      case 'reshard':
        return this.reshard(fault);
      case 'transfer':
        return this.transferLeader(fault);
      case 'maintenance':
        return this.maintenance(fault);
    }
  }

  /** POSTs an admin route to the gates in turn until one answers; returns its status and body. */
  private async admin(path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    let last = 'no gate';
    for (const url of this.cluster.gateUrls) {
      try {
        const answer = await fetch(`${url}${path}`, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
        return { status: answer.status, body: (await answer.text()).slice(0, 300) };
      } catch (error) {
        last = `${url}: ${(error as Error).message}`;
      }
    }
    return { status: 0, body: last };
  }

  /**
   * A planned leader transfer (kvctl cluster leader-transfer) to a follower
   * while the workload writes: it must lose no acknowledged write and fail no
   * client. A refusal (no caught-up follower, a leader already gone) is logged,
   * not a failure: the checker judges the history either way.
   */
  private async transferLeader(fault: PlannedFault): Promise<ActiveFault> {
    const target = await this.replicaTarget({ ...fault, role: 'follower' });
    this.log(`nemesis: leader transfer of ${target.partition} to ${target.id} (from ${target.leader ?? 'no known leader'})`);
    const event = this.begin('transfer', target.id, target.partition);
    const path = `/v1/admin/partitions/${encodeURIComponent(target.partition)}/leader-transfer?to=${encodeURIComponent(target.id)}&timeoutMs=5000`;
    const answer = await this.admin(path, 10_000);
    event.detail = `HTTP ${answer.status} ${answer.body}`;
    this.log(`nemesis: leader transfer of ${target.partition} to ${target.id}: ${event.detail}`);
    return { event, leaderBefore: target.leader, heal: async () => undefined };
  }

  /** Takes a follower out of the in-sync set (kvctl cluster remove-member) while the workload writes, and lets it back at heal. */
  private async maintenance(fault: PlannedFault): Promise<ActiveFault> {
    const target = await this.replicaTarget({ ...fault, role: 'follower' });
    const member = `/v1/admin/partitions/${encodeURIComponent(target.partition)}/members/${encodeURIComponent(target.id)}`;
    const event = this.begin('maintenance', target.id, target.partition);
    const removed = await this.admin(`${member}/remove`, 10_000);
    event.detail = `remove: HTTP ${removed.status} ${removed.body}`;
    this.log(`nemesis: remove-member ${target.id} of ${target.partition} for ${fault.holdMs} ms: ${event.detail}`);
    return {
      event,
      leaderBefore: target.leader,
      heal: async () => {
        // Restored even when the removal was refused: a removal that applied but whose answer was lost must not stay.
        const restored = await this.admin(`${member}/restore`, 10_000);
        this.log(`nemesis: restore-member ${target.id} of ${target.partition}: HTTP ${restored.status} ${restored.body}`);
      },
    };
  }

  /**
   * SIGKILLs one ZooKeeper member, the ensemble's leader for a 'leader' fault
   * (the others must elect one, and every session on it moves), else a
   * follower; restarts it at heal. The others keep a majority, so the
   * cluster must not notice beyond a pause of its sessions.
   */
  private async killZooKeeperMember(fault: PlannedFault): Promise<ActiveFault> {
    const { members } = this.cluster.zookeeper;
    if (members.length < 3) throw new Error(`zk-member needs an ensemble of 3 or more, not ${members.length}`);
    const leader = await kit.ensembleLeader(this.cluster.zookeeper);
    const followers = members.map((_, index) => index).filter((index) => index !== leader);
    const index = fault.role === 'leader' && leader !== undefined ? leader : followers[fault.pick % followers.length];
    const role = index === leader ? 'leader' : leader === undefined ? 'member (no known leader)' : 'follower';
    const member = members[index];
    this.log(`nemesis: SIGKILL ZooKeeper ${memberName(index)} (${role}, ${member.connectString}) for ${fault.holdMs} ms`);
    const event = this.begin('zk-member', `${memberName(index)} (${role})`);
    await member.kill();
    return { event, heal: () => member.restart() };
  }

  /**
   * Removes a partition by an online migration, and at heal time adds it
   * back (its slots move twice while the workload and later faults run);
   * a removal that has not finished by then is aborted, which moves back
   * what had moved.
   */
  private async reshard(fault: PlannedFault): Promise<ActiveFault> {
    const { cluster } = this.cluster;
    const partitions = this.cluster.partitions();
    const victim = partitions[fault.partition % partitions.length]!;
    const session = await ZkSession.connect(cluster.zookeeper.connectString, { sessionTimeoutMs: 10_000 });
    const event = this.begin('reshard', victim, victim);
    try {
      await beginMigration(session, cluster.name, { kind: 'remove', partition: victim }, Date.now());
      this.log(`nemesis: removing ${victim} by an online migration`);
    } catch (error) {
      this.log(`nemesis: could not start removing ${victim}: ${(error as Error).message}`);
    }
    const heal = async (): Promise<void> => {
      try {
        const path = clusterPaths(cluster.name).migration;
        const ended = async (): Promise<boolean> => {
          const node = await session.getData(path);
          return !node || !isMigrationActive(parseMigration(node.data).state);
        };
        const deadline = Date.now() + RESHARD_WAIT_MS;
        while (!(await ended()) && Date.now() < deadline) await sleep(250);
        if (await ended()) {
          await beginMigration(session, cluster.name, { kind: 'add', partition: victim }, Date.now());
          this.log(`nemesis: ${victim} removed; adding it back by an online migration`);
        } else {
          await abortMigration(session, cluster.name);
          this.log(`nemesis: removing ${victim} did not finish in ${RESHARD_WAIT_MS} ms: aborted`);
        }
      } catch (error) {
        this.log(`nemesis: reshard heal of ${victim}: ${(error as Error).message}`);
      } finally {
        session.close();
      }
    };
    return { event, heal };
  }

  /**
   * Lags what reaches the leader's followers, SIGKILLs the leader right
   * after its next acknowledged lock write and resets the followers'
   * inbound connections: the append that would tell them that write's
   * commit point dies in the proxies. A new leader then holds the write in
   * its log but not in its state until its own first entry commits, which
   * the lag (kept until healed) slows down: the window in which a
   * compare-and-set judged before the inherited tail is applied goes wrong.
   */
  private async lagKill(fault: PlannedFault): Promise<ActiveFault> {
    const target = await this.replicaTarget(fault);
    if (target.role !== 'leader') throw new Error(`no leader of ${target.partition} known`);
    const server = this.cluster.server(target.id);
    const followers = this.cluster.replicasOf(target.partition).filter((id) => id !== target.id);
    const lagMs = fault.lagMs ?? LAG_MS[0];
    this.log(`nemesis: lagging ${followers.join(', ')} by ${lagMs} ms, to SIGKILL ${target.id} (leader of ${target.partition}) after its next acknowledged lock write`);
    const event = this.begin('lag-kill', target.id, target.partition);
    for (const id of followers) this.cluster.lag(id, lagMs);
    const unlag = (): void => {
      for (const id of followers) this.cluster.unlag(id);
    };
    try {
      const write = await this.options.nextLockWrite(target.partition, LOCK_WRITE_WAIT_MS);
      const killedAt = Date.now();
      const killed = server.process.kill();
      for (const id of followers) this.cluster.resetInbound(id);
      await killed;
      // Anything it managed to send between the signal and its death is held too: drop it.
      for (const id of followers) this.cluster.resetInbound(id);
      event.detail = write
        ? `killed ${killedAt - (write.completedAt ?? killedAt)} ms after write #${write.id} to ${write.key} was acknowledged; lag ${lagMs} ms`
        : `no lock write acknowledged within ${LOCK_WRITE_WAIT_MS} ms: killed anyway; lag ${lagMs} ms`;
      this.log(`nemesis: SIGKILL ${target.id}: ${event.detail}; healed in ${fault.holdMs} ms`);
      return {
        event,
        leaderBefore: target.leader,
        ...(write ? { key: write.key } : {}),
        heal: async () => {
          unlag();
          await this.cluster.cluster.restartServer(target.id);
        },
      };
    } catch (error) {
      unlag();
      event.endedAt = Date.now();
      throw error;
    }
  }
}

/** "zk2" for members[1], as the ensemble's myid files number them. */
function memberName(index: number): string {
  return `zk${index + 1}`;
}

/** The indices of the ZooKeeper members that do not serve. */
async function membersDown(cluster: ChaosCluster): Promise<number[]> {
  const serving = await Promise.all(cluster.zookeeper.members.map((member) => kit.isZooKeeperServing('127.0.0.1', member.port)));
  return serving.flatMap((up, index) => (up ? [] : [index]));
}
