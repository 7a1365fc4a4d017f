import { setTimeout as sleep } from 'node:timers/promises';
import type { Ring } from '@kvstore/protocol';
import type { HistoryOperation } from '../history';
import type { FaultNotice } from '../nemesis/nemesis';
import { refusedForPrecondition } from '../checker/register';
import { Random } from '../random';
import type { HistoryRecorder, Recorded, Route } from './recorder';

export interface LockWorkloadOptions {
  seed: number;
  clients: number;
  /** Client numbers start here (after the main workload's). */
  firstClient: number;
  recorder: HistoryRecorder;
  ring: Ring;
  partitions: readonly string[];
  /** A partition's replicas at their own ports: a direct route to each. */
  replicas: (partition: string) => { replica: string; url: string }[];
  /** The partition's leader as a gate sees it now (undefined: none, or no gate answers). */
  leaderOf: (partition: string) => Promise<string | undefined>;
}

/** What one client last saw of, or wrote to, a key: the value and the ETag of its version. */
interface Known {
  value: string | null;
  etag: string | null;
}

interface Burst {
  id: number;
  partitions: readonly string[];
  /** Ends then; a burst that waits for a new leader ends when one is seen. */
  until: number;
  /** A replica to read from directly first: the one the fault hit, or the new leader. */
  victim?: string;
  /**
   * The lock key a lag-kill was timed on: most operations go to it, straight
   * to the victim (or to any replica of the partition while none is known),
   * so that one reaches a new leader the moment it takes over.
   */
  key?: string;
}

const KEYS_PER_PARTITION = 2;
const STEADY_PAUSE_MS = [20, 80] as const;
const BURST_MS = [300, 500] as const;
const LEADER_POLL_MS = 100;
const LEADER_WATCH_MS = 15_000;
/** Of the operations on a TTL key, the writes; the rest are reads. */
const TTL_WRITE_SHARE = 0.07;
/** Between requests that found no leader, in a burst. */
const UNAVAILABLE_PAUSE_MS = 20;
/** Of a keyed burst's operations, those on its key. */
const BURST_KEY_SHARE = 0.8;

/**
 * A lock write a lag-kill may time its kill on: an acknowledged conditional
 * PUT without a lease. A second create after a leased one could be
 * explained by the lease running out, and would show nothing.
 */
export function timesLagKill(operation: HistoryOperation): boolean {
  return operation.kind === 'cas' && operation.outcome === 'ok' && operation.ttlSeconds === undefined;
}

interface WriteWatcher {
  partition: string;
  settle(operation: HistoryOperation | undefined): void;
}

/**
 * Lock clients: on a few lock keys per partition they take locks
 * (`If-None-Match: *`, half of them with a TTL lease), renew and release
 * them (`If-Match` with the version they last saw, which may be stale by
 * then); on a few TTL keys they mostly read, now and then writing a TTL'd
 * value (`?ttl=1..3`, mostly `If-None-Match: *`), so that values live until
 * they expire and expiry is seen.
 * At a steady pace they keep those keys busy; right after the nemesis
 * injects or heals a fault, every client races on the affected partition's
 * keys for a few hundred ms without pause, reading also straight from the
 * replicas (first from the one the fault hit). When the fault hit the
 * leader, the race goes on until a gate sees a new leader, and a few hundred
 * ms more from there, reading first from the new leader: the milliseconds
 * after a leadership change are where stale compare-and-sets, unfenced reads
 * and clock-judged expiry show.
 */
export class LockWorkload {
  private readonly lockKeys: Map<string, string[]>;
  private readonly ttlKeys: Map<string, string[]>;
  private readonly bursts: Burst[] = [];
  private readonly writeWatchers = new Set<WriteWatcher>();
  private readonly burstRng: Random;
  private stopped = false;

  constructor(private readonly options: LockWorkloadOptions) {
    this.lockKeys = keysPerPartition('lock', options.ring, options.partitions);
    this.ttlKeys = keysPerPartition('ttl', options.ring, options.partitions);
    for (const partition of options.partitions) {
      if (this.keysOf(partition).length < 2 * KEYS_PER_PARTITION) throw new Error(`the ring gives partition ${partition} too few lock and TTL keys`);
    }
    this.burstRng = Random.stream(options.seed, 'lock-bursts');
  }

  /** Every lock and TTL key. */
  get keys(): string[] {
    return this.options.partitions.flatMap((partition) => this.keysOf(partition));
  }

  /** The lock and TTL keys of `partition`. */
  keysOf(partition: string): string[] {
    return [...(this.lockKeys.get(partition) ?? []), ...(this.ttlKeys.get(partition) ?? [])];
  }

  /** Runs the clients until `until` (ms since the epoch). */
  async run(until: number): Promise<void> {
    await Promise.all(Array.from({ length: this.options.clients }, (_, index) => this.client(index, until)));
    this.stopped = true;
  }

  /** Ends the run early: each client stops after its current operation. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Resolves with the next lock write acknowledged on `partition` that
   * timesLagKill, as soon as its client has the answer; undefined if none
   * comes within `withinMs`.
   */
  nextAcknowledgedWrite(partition: string, withinMs: number): Promise<HistoryOperation | undefined> {
    return new Promise((resolve) => {
      const watcher: WriteWatcher = {
        partition,
        settle: (operation) => {
          clearTimeout(timer);
          this.writeWatchers.delete(watcher);
          resolve(operation);
        },
      };
      const timer = setTimeout(() => watcher.settle(undefined), withinMs);
      this.writeWatchers.add(watcher);
    });
  }

  /** The nemesis's listener: a burst now, and one more when a leader the fault deposed is replaced. */
  onFault(notice: FaultNotice): void {
    if (this.stopped) return;
    const { partition, target } = notice.event;
    const partitions = partition ? [partition] : this.options.partitions;
    // A paused or killed replica cannot answer yet; once healed (or forged to), read from it first.
    const victim = partition && (notice.phase === 'healed' || notice.event.kind === 'forge') ? target : undefined;
    const key = notice.phase === 'injected' ? notice.key : undefined;
    const burst = this.burst(partitions, victim, key);
    const leaderHit = notice.phase === 'injected' && partition !== undefined && notice.leaderBefore === target && notice.event.kind !== 'forge';
    if (leaderHit) void this.untilNewLeader(burst, partition, target);
  }

  private burst(partitions: readonly string[], victim?: string, key?: string): Burst {
    const burst: Burst = {
      id: this.bursts.length + 1,
      partitions,
      until: Date.now() + this.burstRng.between(...BURST_MS),
      ...(victim ? { victim } : {}),
      ...(key ? { key } : {}),
    };
    this.bursts.push(burst);
    return burst;
  }

  private currentBurst(): Burst | undefined {
    const now = Date.now();
    for (let i = this.bursts.length - 1; i >= 0; i--) if (this.bursts[i].until > now) return this.bursts[i];
    return undefined;
  }

  /** Keeps `burst` going until a gate sees a leader other than `before`, then races a while longer on the new leader. */
  private async untilNewLeader(burst: Burst, partition: string, before: string): Promise<void> {
    burst.until = Date.now() + LEADER_WATCH_MS;
    while (!this.stopped && Date.now() < burst.until) {
      const leader = await this.options.leaderOf(partition).catch(() => undefined);
      if (leader !== undefined && leader !== before) {
        burst.until = Date.now();
        this.burst([partition], leader, burst.key);
        return;
      }
      await sleep(LEADER_POLL_MS);
    }
  }

  private async client(index: number, until: number): Promise<void> {
    const { recorder } = this.options;
    const client = this.options.firstClient + index;
    const rng = Random.stream(this.options.seed, `lock-client-${index}`);
    const known = new Map<string, Known>();
    let burstSeen = 0;
    let written = 0;
    const remember = (key: string, recorded: Recorded, value: string | null): void => {
      if (recorded.operation.outcome === 'ok') known.set(key, { value, etag: value === null ? null : recorded.etag });
    };
    while (!this.stopped && Date.now() < until) {
      const burst = this.currentBurst();
      const partition = rng.pick(burst?.partitions ?? this.options.partitions);
      const burstKey = burst?.key;
      const onBurstKey = burstKey !== undefined && rng.chance(BURST_KEY_SHARE);
      const isLockKey = onBurstKey || rng.chance(0.6);
      const key = onBurstKey ? burstKey : rng.pick((isLockKey ? this.lockKeys : this.ttlKeys).get(partition)!);
      let last: HistoryOperation;
      if (burst && burst.id > burstSeen) {
        // The first thing in a new burst: a read straight from the victim (strong, or eventual for odd clients).
        // Not in a keyed burst: a new leader's strong read waits out the very window its writes are after.
        burstSeen = burst.id;
        const victim = burstKey === undefined ? this.options.replicas(partition).find((replica) => replica.replica === burst.victim) : undefined;
        if (victim !== undefined) {
          if (index % 2 === 1) {
            await recorder.eventualRead(client, key, victim);
            continue;
          }
          const read = await recorder.read(client, key, victim);
          remember(key, read, read.operation.result ?? null);
          continue;
        }
      }
      const choice = rng.next();
      const direct = onBurstKey ? this.replicaFor(partition, burst?.victim, rng) : undefined;
      if (isLockKey ? choice < (burst ? 0.35 : 0.25) : choice >= TTL_WRITE_SHARE) {
        const route: Route = direct ?? (burst && rng.chance(0.5) ? rng.pick(this.options.replicas(partition)) : { gate: rng.int(2) });
        const read = await recorder.read(client, key, route);
        remember(key, read, read.operation.result ?? null);
        last = read.operation;
      } else if (!isLockKey) {
        // Mostly created only when absent, so that a value lives until it expires and the key then stays absent a while.
        const value = `T${client}-${written++}`;
        const ttl = rng.between(1, 3);
        const route = { gate: rng.int(2) };
        const write = rng.chance(0.7) ? await recorder.cas(client, key, null, null, value, route, ttl) : await recorder.write(client, key, value, route, ttl);
        remember(key, write, value);
        last = write.operation;
      } else {
        last = await this.lockStep(client, key, known.get(key), `L${client}-${written++}`, rng, remember, direct);
      }
      if (!burst) await sleep(rng.between(...STEADY_PAUSE_MS));
      // No leader answers at once: a short breath, so that a burst races rather than spins.
      else if (last.outcome !== 'ok' && !refusedForPrecondition(last)) await sleep(UNAVAILABLE_PAUSE_MS);
    }
  }

  /** A keyed burst's route: straight to its victim, or to any replica of the partition while no new leader is known. */
  private replicaFor(partition: string, victim: string | undefined, rng: Random): Route {
    const replicas = this.options.replicas(partition);
    return replicas.find((replica) => replica.replica === victim) ?? rng.pick(replicas);
  }

  /** Take the lock (maybe with a lease), renew it or release it, against what this client last knew; through a gate unless `direct`. */
  private async lockStep(
    client: number,
    key: string,
    mine: Known | undefined,
    value: string,
    rng: Random,
    remember: (key: string, recorded: Recorded, value: string | null) => void,
    direct?: Route,
  ): Promise<HistoryOperation> {
    const { recorder } = this.options;
    const route = direct ?? { gate: rng.int(2) };
    const lease = rng.chance(0.5) ? rng.between(1, 3) : undefined;
    const action = rng.next();
    let recorded: Recorded;
    if (mine?.value == null || mine.etag === null || action < 0.4) {
      recorded = await recorder.cas(client, key, null, null, value, route, lease);
      remember(key, recorded, value);
    } else if (action < 0.75) {
      recorded = await recorder.cas(client, key, mine.value, mine.etag, value, route, lease);
      remember(key, recorded, value);
    } else {
      recorded = await recorder.delete(client, key, mine.value, mine.etag, route);
      remember(key, recorded, null);
    }
    if (direct === undefined && timesLagKill(recorded.operation)) this.acknowledged(recorded.operation);
    return recorded.operation;
  }

  private acknowledged(operation: HistoryOperation): void {
    for (const watcher of this.writeWatchers) if (watcher.partition === operation.partition) watcher.settle(operation);
  }
}

/** The first `perPartition` names `<prefix>-<i>` each partition owns on the ring. */
function keysPerPartition(prefix: string, ring: Ring, partitions: readonly string[], perPartition = KEYS_PER_PARTITION): Map<string, string[]> {
  const byPartition = new Map(partitions.map((partition) => [partition, [] as string[]]));
  const missing = (): boolean => [...byPartition.values()].some((keys) => keys.length < perPartition);
  for (let i = 0; i < 100_000 && missing(); i++) {
    const key = `${prefix}-${i}`;
    const keys = byPartition.get(ring.ownerOf(key) ?? '');
    if (keys !== undefined && keys.length < perPartition) keys.push(key);
  }
  return byPartition;
}
