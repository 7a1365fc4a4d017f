import { sleep } from '../clock';
import type { Leadership } from './leadership';
import type { AppendResponse } from './messages';
import type { Member } from './types';

/** A snapshot of millions of keys takes a while; the follower answers when it is in (or fails at once if it dies). */
const SNAPSHOT_INSTALL_TIMEOUT_MS = 30 * 60_000;

/**
 * Ships the leader's log to one follower: one request in flight, each
 * carrying every entry the follower lacks (up to a batch bound), the commit
 * point and the newest read-confirmation round. Sleeps when there is
 * nothing to send.
 */
export class Replicator {
  matchSeq = 0;
  nextSeq: number;
  /** The newest read-confirmation round this follower has answered. */
  ackedRound = 0;
  /** When the follower last held every entry the leader had (when the request it answered so was sent); the term's start before that. */
  heldAllAt: number;
  /** The last request was answered (not refused, not lost): a follower that is not may not join the in-sync set. */
  reachable = false;
  /** Since when the follower has answered that it does not know this epoch yet. */
  private unknownEpochSince: number | undefined;
  private sentCommit = 0;
  private running = true;
  private wakeUp: (() => void) | undefined;

  constructor(
    readonly member: Member,
    private readonly leadership: Leadership,
  ) {
    this.nextSeq = leadership.log.lastSeq + 1;
    this.heldAllAt = leadership.clock.now();
    void this.loop();
  }

  wake(): void {
    this.wakeUp?.();
  }

  stop(): void {
    this.running = false;
    this.wake();
  }

  private hasWork(): boolean {
    const { log, commitSeq, requestedRound } = this.leadership;
    return this.nextSeq <= log.lastSeq || this.sentCommit < commitSeq || this.ackedRound < requestedRound;
  }

  private async loop(): Promise<void> {
    while (this.running && this.leadership.active) {
      if (!this.hasWork()) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = undefined;
        continue;
      }
      const ok = await this.sendOnce();
      if (!ok && this.running) await sleep(this.leadership.clock, this.leadership.options.retryBackoffMs);
    }
  }

  /** One round trip; false when the follower could not be reached. */
  private async sendOnce(): Promise<boolean> {
    const { log, transport, options, epoch, self } = this.leadership;
    const round = this.leadership.requestedRound;
    const sentAt = this.leadership.clock.now();
    const lastSeqAtSend = log.lastSeq;
    const prevSeq = this.nextSeq - 1;
    const prevEpoch = log.epochAt(prevSeq);
    let response: AppendResponse;
    try {
      if (prevEpoch === undefined) {
        response = await transport.installSnapshot(
          this.member.url,
          { epoch, leaderId: self.id, leaderUrl: self.url },
          SNAPSHOT_INSTALL_TIMEOUT_MS,
        );
      } else {
        const commitSeq = this.leadership.commitSeq;
        const entries = log.slice(this.nextSeq, options.maxBatchEntries, options.maxBatchBytes);
        response = await transport.append(
          this.member.url,
          { epoch, leaderId: self.id, leaderUrl: self.url, prevSeq, prevEpoch, commitSeq, entries },
          options.replicaTimeoutMs,
        );
        if (response.ok) this.sentCommit = commitSeq;
      }
    } catch (error) {
      this.reachable = false;
      if (this.running) this.leadership.onFollowerUnreachable(this, error);
      return false;
    }
    if (!this.running || !this.leadership.active) return true;
    this.reachable = response.ok || response.reason === 'mismatch';
    if (response.ok || response.reason !== 'unknown-epoch') this.unknownEpochSince = undefined;
    if (response.ok) {
      this.matchSeq = Math.max(this.matchSeq, response.matchSeq);
      if (this.matchSeq >= lastSeqAtSend) this.heldAllAt = sentAt;
      this.nextSeq = this.matchSeq + 1;
      this.ackedRound = Math.max(this.ackedRound, round);
      this.leadership.onFollowerProgress(this);
    } else if (response.reason === 'stale-epoch' && response.epoch > epoch) {
      this.leadership.onStaleEpoch(response.epoch, this.member.id);
    } else if (response.reason === 'unknown-epoch') {
      // Its ZooKeeper watch has not shown it this term yet: retry, and give up on it only after the replica timeout.
      const { clock, options } = this.leadership;
      this.unknownEpochSince ??= clock.now();
      if (clock.now() - this.unknownEpochSince < options.replicaTimeoutMs) return false;
      this.leadership.onFollowerUnreachable(this, new Error(`follower has not seen epoch ${epoch} in ZooKeeper`));
      return false;
    } else if (response.reason !== 'mismatch') {
      // Busy, or (against the protocol) no newer epoch: not a reason to step down, but no progress either.
      this.leadership.onFollowerUnreachable(this, new Error(`follower answered ${response.reason} at epoch ${response.epoch}`));
      return false;
    } else {
      // Walk back to where the logs agree; below the log's base that means a snapshot.
      this.nextSeq = Math.max(0, Math.min(this.nextSeq - 1, response.lastSeq + 1));
      this.matchSeq = Math.min(this.matchSeq, this.nextSeq - 1);
    }
    return true;
  }
}
