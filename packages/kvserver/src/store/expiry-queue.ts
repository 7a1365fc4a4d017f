import type { ExpiryCandidate } from '../replication/kv-store';

/**
 * The values that carry a TTL, soonest first (a binary heap), so the leader
 * finds what has expired without scanning every key. Entries are never
 * updated in place: one whose key was rewritten or removed since is
 * recognised as stale when it comes up, and dropped.
 */
export class ExpiryQueue {
  private readonly heap: ExpiryCandidate[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(candidate: ExpiryCandidate): void {
    const { heap } = this;
    heap.push(candidate);
    for (let index = heap.length - 1; index > 0; ) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.expiresAt <= heap[index]!.expiresAt) break;
      [heap[parent], heap[index]] = [heap[index]!, heap[parent]!];
      index = parent;
    }
  }

  /**
   * Up to `limit` current values expired at `nowMs`. They stay queued until
   * `isCurrent` says otherwise (their expiry was applied, or they were
   * rewritten), so a decision that is lost (a leader that dies before its
   * expiry commits) is made again by the next leader.
   */
  due(nowMs: number, limit: number, isCurrent: (candidate: ExpiryCandidate) => boolean): ExpiryCandidate[] {
    const found: ExpiryCandidate[] = [];
    while (found.length < limit && this.heap.length > 0 && this.heap[0]!.expiresAt <= nowMs) {
      const candidate = this.pop();
      if (isCurrent(candidate)) found.push(candidate);
    }
    for (const candidate of found) this.push(candidate);
    return found;
  }

  clear(): void {
    this.heap.length = 0;
  }

  private pop(): ExpiryCandidate {
    const { heap } = this;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    heap[0] = last;
    for (let index = 0; ; ) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left]!.expiresAt < heap[smallest]!.expiresAt) smallest = left;
      if (right < heap.length && heap[right]!.expiresAt < heap[smallest]!.expiresAt) smallest = right;
      if (smallest === index) break;
      [heap[smallest], heap[index]] = [heap[index]!, heap[smallest]!];
      index = smallest;
    }
    return top;
  }
}
