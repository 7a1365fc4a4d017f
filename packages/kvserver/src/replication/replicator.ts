import type { Leadership } from './leadership';
import type { AppendResponse } from './messages';
import type { Member } from './types';

/** A snapshot of millions of keys takes a while; the follower answers when it is in (or fails at once if it dies). */
const SNAPSHOT_INSTALL_TIMEOUT_MS = 30 * 60_000;

/** What the leader knew when it sent one request, judged again when its answer comes. */
interface Sent {
  generation: number;
  at: number;
  /** The same moment on the monotonic clock: an `ok` answer is the follower's promise from then (readLeaseMs). */
  atMonotonic: number;
  /** The leader's log end then: an answer at or past it shows the follower held everything the leader had at `at`. */
  lastSeq: number;
  prevSeq: number;
  round: number;
  /** The commit point the request carried; undefined for a snapshot order. */
  commitSeq: number | undefined;
}

/**
 * Ships the leader's log to one follower, each request carrying the entries
 * after the previous one (up to a batch bound), the commit point and the
 * newest read-confirmation round.
 *
 * Like Raft's progress tracking (etcd's StateProbe and StateReplicate): while
 * probing — at the start, and after any failure or mismatch — one request
 * at a time, until one is answered `ok`; then up to
 * `maxAppendsInFlight` at once, each sent right after the one before
 * without waiting for its answer. Every failure raises the generation:
 * answers to requests of an older generation are ignored, and the next
 * probe waits until none of them is in flight (the window drains), then
 * starts again after the entries the follower is known to hold. So an
 * answer that comes late, twice or out of order never moves `matchSeq`,
 * `nextSeq` or a read round by a request that a failure has overtaken.
 */
export class Replicator {
  matchSeq = 0;
  /** The next entry to send: past `matchSeq` by whatever is in flight. */
  nextSeq: number;
  /** The newest read-confirmation round this follower has answered. */
  ackedRound = 0;
  /** When (monotonic) the newest request this follower answered `ok` was sent: its promise not to lead runs from then. */
  promisedFrom = -Infinity;
  /** When the follower last held every entry the leader had (when the request it answered so was sent); the term's start before that. */
  heldAllAt: number;
  /** The last request was answered (not refused, not lost): a follower that is not may not join the in-sync set. */
  reachable = false;
  /** Since when the follower has answered that it does not know this epoch yet. */
  private unknownEpochSince: number | undefined;
  private generation = 0;
  private probing = true;
  /** Requests sent and not answered yet, of every generation. */
  private inFlight = 0;
  /** The commit point the follower has answered for, and the one this generation's requests carry. */
  private ackedCommit = 0;
  private sentCommit = 0;
  private sentRound = 0;
  /** Set while waiting out the back-off after a failure. */
  private retryTimer: unknown;
  private pumpQueued = false;
  private running = true;

  constructor(
    readonly member: Member,
    private readonly leadership: Leadership,
  ) {
    const window = leadership.options.maxAppendsInFlight;
    if (!Number.isSafeInteger(window) || window < 1) throw new Error(`maxAppendsInFlight must be a whole number of at least 1, not ${window}`);
    this.nextSeq = leadership.log.lastSeq + 1;
    this.heldAllAt = leadership.clock.now();
    this.wake();
  }

  /** There may be something to send: sent once the current turn's appends are in, so they share a request. */
  wake(): void {
    if (this.pumpQueued || !this.running) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  stop(): void {
    this.running = false;
    if (this.retryTimer !== undefined) this.leadership.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private pump(): void {
    while (this.canSend()) this.send();
  }

  private canSend(): boolean {
    if (!this.running || !this.leadership.active || this.retryTimer !== undefined) return false;
    const { log, commitSeq, requestedRound, options } = this.leadership;
    // A probe (and a snapshot order, which only a probe can become) goes alone: nothing older is still in flight.
    if (this.probing || this.nextSeq <= log.baseSeq) return this.inFlight === 0 && this.hasWork(commitSeq);
    if (this.inFlight >= options.maxAppendsInFlight) return false;
    // A commit point alone waits for the window to empty: the next request, or the answers' pump, carries it.
    return this.nextSeq <= log.lastSeq || this.sentRound < requestedRound || (this.inFlight === 0 && this.sentCommit < commitSeq);
  }

  private hasWork(commitSeq: number): boolean {
    return this.nextSeq <= this.leadership.log.lastSeq || this.sentCommit < commitSeq || this.sentRound < this.leadership.requestedRound;
  }

  private send(): void {
    const { log, transport, options, epoch, self, clock } = this.leadership;
    const prevSeq = this.nextSeq - 1;
    const prevEpoch = log.epochAt(prevSeq);
    const sent: Sent = { generation: this.generation, at: clock.now(), atMonotonic: clock.monotonic(), lastSeq: log.lastSeq, prevSeq, round: this.leadership.requestedRound, commitSeq: undefined };
    let answer: Promise<AppendResponse>;
    if (prevEpoch === undefined) {
      answer = transport.installSnapshot(this.member.url, { epoch, leaderId: self.id, leaderUrl: self.url }, SNAPSHOT_INSTALL_TIMEOUT_MS);
    } else {
      const commitSeq = this.leadership.commitSeq;
      const entries = log.slice(this.nextSeq, options.maxBatchEntries, options.maxBatchBytes);
      answer = transport.append(
        this.member.url,
        { epoch, leaderId: self.id, leaderUrl: self.url, prevSeq, prevEpoch, commitSeq, entries },
        options.replicaTimeoutMs,
      );
      sent.commitSeq = commitSeq;
      this.nextSeq += entries.length;
      this.sentCommit = commitSeq;
    }
    this.sentRound = sent.round;
    this.inFlight++;
    answer.then(
      (response) => this.answered(sent, response),
      (error: unknown) => this.answered(sent, error instanceof Error ? error : new Error(String(error))),
    );
  }

  private answered(sent: Sent, outcome: AppendResponse | Error): void {
    this.inFlight--;
    if (!this.running || !this.leadership.active) return;
    if (sent.generation === this.generation) this.judge(sent, outcome);
    this.pump();
  }

  private judge(sent: Sent, outcome: AppendResponse | Error): void {
    const { epoch, clock, options } = this.leadership;
    if (outcome instanceof Error) {
      this.reachable = false;
      this.restart(true);
      this.leadership.onFollowerUnreachable(this, outcome);
      return;
    }
    this.reachable = outcome.ok || outcome.reason === 'mismatch';
    if (outcome.ok || outcome.reason !== 'unknown-epoch') this.unknownEpochSince = undefined;
    if (outcome.ok) {
      this.probing = false;
      this.matchSeq = Math.max(this.matchSeq, outcome.matchSeq);
      this.nextSeq = Math.max(this.nextSeq, this.matchSeq + 1);
      if (this.matchSeq >= sent.lastSeq) this.heldAllAt = Math.max(this.heldAllAt, sent.at);
      if (sent.commitSeq !== undefined) this.ackedCommit = Math.max(this.ackedCommit, sent.commitSeq);
      this.ackedRound = Math.max(this.ackedRound, sent.round);
      // A snapshot install promises nothing (Replica.handleAppend promises).
      if (sent.commitSeq !== undefined) this.promisedFrom = Math.max(this.promisedFrom, sent.atMonotonic);
      this.leadership.onFollowerProgress(this);
    } else if (outcome.reason === 'stale-epoch' && outcome.epoch > epoch) {
      this.leadership.onStaleEpoch(outcome.epoch, this.member.id);
    } else if (outcome.reason === 'unknown-epoch') {
      // Its ZooKeeper watch has not shown it this term yet: retry, and give up on it only after the replica timeout.
      this.restart(true);
      this.unknownEpochSince ??= clock.now();
      if (clock.now() - this.unknownEpochSince < options.replicaTimeoutMs) return;
      this.leadership.onFollowerUnreachable(this, new Error(`follower has not seen epoch ${epoch} in ZooKeeper`));
    } else if (outcome.reason !== 'mismatch') {
      // Busy, or (against the protocol) no newer epoch: not a reason to step down, but no progress either.
      this.restart(true);
      this.leadership.onFollowerUnreachable(this, new Error(`follower answered ${outcome.reason} at epoch ${outcome.epoch}`));
    } else {
      // Walk back to where the logs agree (below the log's base that means a snapshot). The follower's word is
      // believed over what it answered before: it only delays the commit if a reordered answer was older.
      this.restart(false);
      this.nextSeq = Math.max(0, Math.min(sent.prevSeq, outcome.lastSeq + 1));
      this.matchSeq = Math.min(this.matchSeq, this.nextSeq - 1);
    }
  }

  /** Ignores every answer still to come, and probes again from after `matchSeq` once they are in (after a back-off if `backOff`). */
  private restart(backOff: boolean): void {
    this.generation++;
    this.probing = true;
    this.nextSeq = this.matchSeq + 1;
    this.sentCommit = this.ackedCommit;
    this.sentRound = this.ackedRound;
    if (!backOff || this.retryTimer !== undefined) return;
    this.retryTimer = this.leadership.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.leadership.options.retryBackoffMs);
  }
}
