import { setTimeout as delay } from 'node:timers/promises';
import type { MigrationView, Ring } from '@kvstore/protocol';
import { del, get, put, type HttpResult, type TestCluster } from '@kvstore/testkit';

/**
 * The load of the resharding tests: clients that each own their keys and
 * run read, write, delete and compare-and-set on them one at a time, so
 * each knows exactly what its keys may hold. As every key has one
 * sequential client, checking each answer against the client's own record
 * is checking that the key's history is linearizable.
 */

/** What a client knows of one of its keys. */
interface KeyState {
  /** The value of the last acknowledged write; null once deleted (or never written). */
  acked: string | null;
  /** Its version (undefined: never written). */
  ackedVersion: number | undefined;
  /** Writes since then whose outcome is unknown (504, lost connection): the key may hold any of these values (null: a delete). */
  unknown: (string | null)[];
  /** The highest version any answer carried: a later write must get a higher one. */
  highest: number;
}

type Operation = 'put' | 'read' | 'cas' | 'delete' | 'stale-cas';
/** Each key goes round this cycle, keys at different places in it: reads follow writes, deletes and compare-and-sets. */
const CYCLE: readonly Operation[] = ['put', 'read', 'cas', 'stale-cas', 'delete', 'read', 'cas', 'put', 'cas', 'read'];

const REQUEST_TIMEOUT_MS = 8000;
/** A client that just failed (a gate being restarted, say) tries again after this, instead of spinning. */
const ERROR_PAUSE_MS = 100;
/** Problems kept word for word; beyond these, only counted. */
const KEPT = 30;

/** What came of a write: applied, certainly not applied (412, 503 with its JSON body), or unknown. */
type WriteOutcome = 'ok' | 'refused' | 'unknown';

function writeOutcome(answer: HttpResult): WriteOutcome {
  if (answer.status === 200) return 'ok';
  if (answer.status === 412) return 'refused';
  const code = (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
  return answer.status === 503 && code === 'UNAVAILABLE' ? 'refused' : 'unknown';
}

function versionOf(answer: HttpResult): number | undefined {
  const etag = answer.headers.get('etag');
  if (etag !== null) return Number(etag.replace(/^W\//, '').replace(/"/g, ''));
  const version = (answer.json as { version?: number } | undefined)?.version;
  return typeof version === 'number' ? version : undefined;
}

function describe(answer: HttpResult): string {
  return `${answer.status} ${answer.body.toString().slice(0, 200)}`;
}

export class ProblemLog {
  readonly kept: string[] = [];
  count = 0;
  add(problem: string): void {
    this.count++;
    if (this.kept.length < KEPT) this.kept.push(`${new Date().toISOString()} ${problem}`);
  }
}

export interface Workload {
  /** Answers other than those the operation expects (5xx, lost connections, 4xx other than 404 and the stale compare-and-set's 412). */
  readonly errors: ProblemLog;
  /** Answers that contradict what the key must hold, or a version that went backwards. */
  readonly violations: ProblemLog;
  /** Operations answered, and writes acknowledged, so far. */
  readonly ops: number;
  readonly acknowledged: number;
  /** Waits until `count` more writes have been acknowledged. */
  waitForWrites(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** After stop: reads every key (and every loaded one) strongly and adds a violation for each that holds what no acknowledged or unknown write left. */
  verify(): Promise<{ keys: number }>;
}

export interface WorkloadOptions {
  clients?: number;
  keysEach?: number;
  /** Keys written once before the clients start, so that moves carry data (checked by verify too): how many (named load-<n>), or which. */
  loadedKeys?: number | readonly string[];
  /** Bytes of each loaded value. */
  valueBytes?: number;
}

/**
 * Loads the cluster, then starts the clients against `gateUrl`. The load
 * must succeed (it runs before any fault).
 */
export async function startWorkload(gateUrl: string, options: WorkloadOptions = {}): Promise<Workload> {
  const { clients = 8, keysEach = 24, loadedKeys = 0, valueBytes = 100 } = options;
  const states = new Map<string, KeyState>();
  const errors = new ProblemLog();
  const violations = new ProblemLog();
  let ops = 0;
  let acknowledged = 0;
  let running = true;

  const padding = 'x'.repeat(valueBytes);
  const toLoad = typeof loadedKeys === 'number' ? Array.from({ length: loadedKeys }, (_, n) => `load-${n}`) : loadedKeys;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < toLoad.length) {
        const key = toLoad[next++]!;
        const value = `${key}:${padding}`;
        const answer = await put(gateUrl, key, value, { timeoutMs: REQUEST_TIMEOUT_MS });
        if (answer.status !== 200) throw new Error(`loading ${key}: ${describe(answer)}`);
        states.set(key, { acked: value, ackedVersion: versionOf(answer), unknown: [], highest: versionOf(answer) ?? 0 });
      }
    }),
  );

  const checkVersion = (key: string, state: KeyState, version: number | undefined, write: boolean): void => {
    if (version === undefined || Number.isNaN(version)) return violations.add(`${key}: an answer without a version`);
    if (write ? version <= state.highest : version < state.highest) {
      violations.add(`${key}: version ${version} after ${state.highest} (${write ? 'a write' : 'a read'})`);
    }
    state.highest = Math.max(state.highest, version);
  };

  /** Records a write's answer; `expectRefusal` for the stale compare-and-set. */
  const wrote = (key: string, state: KeyState, value: string | null, answer: HttpResult, what: string, expectRefusal = false): void => {
    const outcome = writeOutcome(answer);
    if (outcome === 'ok') {
      acknowledged++;
      if (expectRefusal && state.unknown.length === 0) violations.add(`${key}: ${what} succeeded: ${describe(answer)}`);
      const version = versionOf(answer);
      checkVersion(key, state, version, true);
      Object.assign(state, { acked: value, ackedVersion: version, unknown: [] });
      return;
    }
    if (outcome === 'refused' && answer.status === 412) {
      // Only the stale compare-and-set expects a 412: this client is its key's only writer.
      if (!expectRefusal && state.unknown.length === 0) violations.add(`${key}: ${what} refused: ${describe(answer)}`);
      return;
    }
    errors.add(`${key}: ${what}: ${describe(answer)}`);
    if (outcome === 'unknown') state.unknown.push(value);
  };

  /** Checks a strong read; returns its version if it found the key. */
  const read = async (key: string, state: KeyState): Promise<HttpResult | undefined> => {
    const answer = await get(gateUrl, key, { consistency: 'strong', timeoutMs: REQUEST_TIMEOUT_MS });
    if (answer.status !== 200 && answer.status !== 404) {
      errors.add(`${key}: GET: ${describe(answer)}`);
      return undefined;
    }
    const seen = answer.status === 200 ? answer.body.toString() : null;
    if (seen !== state.acked && !state.unknown.includes(seen)) {
      violations.add(`${key}: GET ${JSON.stringify(seen)}, but the last acknowledged write left ${JSON.stringify(state.acked)}${state.unknown.length > 0 ? ` (or one of ${JSON.stringify(state.unknown)})` : ''}`);
    } else if (seen !== null) {
      const version = versionOf(answer);
      checkVersion(key, state, version, false);
      if (state.unknown.length === 0 && version !== state.ackedVersion) violations.add(`${key}: read version ${version}, written as ${state.ackedVersion}`);
    }
    return answer;
  };

  const run = async (key: string, state: KeyState, operation: Operation, value: string): Promise<void> => {
    const options = { timeoutMs: REQUEST_TIMEOUT_MS };
    if (operation === 'put') return wrote(key, state, value, await put(gateUrl, key, value, options), 'PUT');
    if (operation === 'delete') return wrote(key, state, null, await del(gateUrl, key, options), 'DELETE');
    if (operation === 'stale-cas') {
      // A version the key does not have now (an older one, or none): must be refused.
      const stale = String((state.ackedVersion ?? 0) + (state.acked === null ? 0 : -1));
      const answer = await put(gateUrl, key, value, { ...options, headers: { 'if-match': `"${stale}"` } });
      return wrote(key, state, value, answer, `PUT If-Match "${stale}" (stale)`, true);
    }
    const answer = await read(key, state);
    if (operation === 'read' || !answer) return;
    // Compare-and-set on what was just read: it holds, this client being the key's only writer.
    const condition: Record<string, string> = answer.status === 200 ? { 'if-match': answer.headers.get('etag')! } : { 'if-none-match': '*' };
    const cas = await put(gateUrl, key, value, { ...options, headers: condition });
    wrote(key, state, value, cas, `PUT ${Object.entries(condition)[0]!.join(': ')}`);
  };

  const loops = Array.from({ length: clients }, async (_, client) => {
    const keys = Array.from({ length: keysEach }, (_, n) => `c${client}-k${n}`);
    for (const key of keys) states.set(key, { acked: null, ackedVersion: undefined, unknown: [], highest: 0 });
    for (let round = 0; running; round++) {
      const index = round % keys.length;
      const key = keys[index]!;
      const state = states.get(key)!;
      const operation = CYCLE[(Math.floor(round / keys.length) + index) % CYCLE.length]!;
      try {
        await run(key, state, operation, `${key}@${round}`);
      } catch (error) {
        errors.add(`${key}: ${operation}: ${(error as Error).message}`);
        if (operation !== 'read') state.unknown.push(operation === 'delete' ? null : `${key}@${round}`);
        await delay(ERROR_PAUSE_MS);
      }
      ops++;
    }
  });

  return {
    errors,
    violations,
    get ops() {
      return ops;
    },
    get acknowledged() {
      return acknowledged;
    },
    async waitForWrites(count, timeoutMs = 30_000) {
      const target = acknowledged + count;
      const deadline = Date.now() + timeoutMs;
      while (acknowledged < target) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} acknowledged writes (${errors.count} errors: ${errors.kept.slice(-3).join('; ')})`);
        await delay(50);
      }
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
    async verify() {
      const keys = [...states.keys()];
      let index = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (index < keys.length) {
            const key = keys[index++]!;
            const answer = await finalRead(gateUrl, key);
            const state = states.get(key)!;
            if (answer.status !== 200 && answer.status !== 404) {
              violations.add(`${key}: the final read answered ${describe(answer)}`);
              continue;
            }
            const seen = answer.status === 200 ? answer.body.toString() : null;
            if (seen !== state.acked && !state.unknown.includes(seen)) {
              violations.add(`${key}: holds ${JSON.stringify(seen?.slice(0, 60) ?? null)} at the end, but the last acknowledged write left ${JSON.stringify(state.acked?.slice(0, 60) ?? null)}`);
            }
          }
        }),
      );
      return { keys: keys.length };
    },
  };
}

/** A strong read that tries again, a few times, on an answer that says nothing of the key (503, 504). */
async function finalRead(gateUrl: string, key: string): Promise<HttpResult> {
  for (let attempt = 1; ; attempt++) {
    const answer = await get(gateUrl, key, { consistency: 'strong', timeoutMs: REQUEST_TIMEOUT_MS });
    if (answer.status < 500 || attempt === 5) return answer;
    await delay(ERROR_PAUSE_MS);
  }
}

/** Slots whose owner differs between two tables, by the partition each went to. */
export function slotsMoved(before: Ring, after: Ring): Map<string, number> {
  const moved = new Map<string, number>();
  const from = before.slotOwners();
  after.slotOwners().forEach((owner, slot) => {
    if (owner !== from[slot]) moved.set(owner, (moved.get(owner) ?? 0) + 1);
  });
  return moved;
}

/** Waits until migration `id` runs with some of its slots moved, not all, and returns its view. */
export function waitUntilUnderWay(cluster: TestCluster, id: string): Promise<MigrationView> {
  return cluster.waitForMigration((view) => view.state === 'running' && view.slotsMoved > 0 && view.slotsMoved < view.slotsTotal, {
    id,
    what: `migration ${id} to have moved some of its slots, not all`,
  });
}

/** A summary of a workload for the test's diagnostics. */
export function summary(workload: Workload): string {
  return `${workload.ops} operations, ${workload.acknowledged} writes acknowledged, ${workload.errors.count} errors, ${workload.violations.count} violations`;
}
