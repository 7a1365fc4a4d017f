import { setTimeout as sleep } from 'node:timers/promises';
import { Random } from '../random';
import type { HistoryRecorder, Route } from './recorder';

export interface WorkloadOptions {
  seed: number;
  concurrency: number;
  keys: number;
  recorder: HistoryRecorder;
  /** A third of the operations go through the self-routing kvclient instead of a gate. */
  selfRouting: boolean;
}

export function keyName(index: number): string {
  return `k${String(index).padStart(4, '0')}`;
}

/**
 * The main clients of a chaos run: reads, writes and compare-and-sets on
 * `keys` keys. Each client is a sequential process: one operation at a time,
 * every choice (key, operation, gate) from its own seeded stream.
 */
export class Workload {
  constructor(private readonly options: WorkloadOptions) {}

  /** The keys it uses. */
  get keys(): string[] {
    return Array.from({ length: this.options.keys }, (_, index) => keyName(index));
  }

  /** Runs every client until `until` (ms since the epoch); resolves when the last one's operation is over. */
  async run(until: number): Promise<void> {
    await Promise.all(Array.from({ length: this.options.concurrency }, (_, client) => this.client(client, until)));
  }

  private async client(client: number, until: number): Promise<void> {
    const { recorder } = this.options;
    const rng = Random.stream(this.options.seed, `client-${client}`);
    let written = 0;
    while (Date.now() < until) {
      const key = keyName(rng.int(this.options.keys));
      const gate = rng.int(2);
      const route: Route = this.options.selfRouting && rng.chance(1 / 3) ? { selfRouting: true } : { gate };
      const choice = rng.next();
      let outcome: string;
      if (choice < 0.5) {
        outcome = rng.chance(0.1) ? (await recorder.eventualRead(client, key, route)).outcome : (await recorder.read(client, key, route)).operation.outcome;
      } else if (choice < 0.85) {
        outcome = (await recorder.write(client, key, `c${client}-${written++}`, route)).operation.outcome;
      } else {
        const value = `c${client}-${written++}`;
        const read = await recorder.read(client, key, route);
        outcome = read.operation.outcome;
        if (outcome === 'ok') outcome = (await recorder.cas(client, key, read.operation.result ?? null, read.etag, value, route)).operation.outcome;
      }
      // A partition without a leader answers at once: do not spin on it.
      if (outcome !== 'ok') await sleep(50);
    }
  }
}

/**
 * The final check: one strong read of every key, by `readers` clients
 * numbered from `firstClient`, each read retried until it succeeds (at most
 * `attempts` times, and not after `withinMs`: a partition that never
 * recovers must not hold the run). Returns the keys that could not be read.
 */
export async function finalReads(
  recorder: HistoryRecorder,
  keys: readonly string[],
  readers: number,
  firstClient: number,
  { attempts = 60, withinMs = 45_000 } = {},
): Promise<string[]> {
  const queue = [...keys];
  const unread: string[] = [];
  const deadline = Date.now() + withinMs;
  await Promise.all(
    Array.from({ length: readers }, async (_, reader) => {
      const client = firstClient + reader;
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        let done = false;
        for (let attempt = 0; attempt < attempts && !done && Date.now() < deadline; attempt++) {
          done = (await recorder.read(client, key, { gate: attempt % 2 })).operation.outcome === 'ok';
          if (!done) await sleep(250);
        }
        if (!done) unread.push(key);
      }
    }),
  );
  return unread;
}
