/**
 * Shared by the durable-storage integration tests (crash-recovery,
 * snapshot-transfer, corruption): writers that remember what was
 * acknowledged, read-back checks, a replica's own status, disk use.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { get, internalGet, put, waitFor, type TestCluster, type TestServer } from '@kvstore/testkit';
import type { ReplicaStatus } from '@kvstore/kvserver';

export interface Ack {
  key: string;
  value: string;
  version: number;
  /** Which round of a test it was begun in (e.g. the kill/restart cycle). */
  round: number;
  /** When it was begun and acknowledged (Date.now()). */
  startedAt?: number;
  at?: number;
}

/**
 * `count` writers putting fresh keys through `gate` until stopped. Only a 200
 * is an acknowledgement; anything else (503 while a partition is down, 504,
 * a connection error) is not, and the writer backs off briefly.
 */
export function startWriters(gate: string, count: number, prefix: string, valueBytes = 32) {
  const acked: Ack[] = [];
  let running = true;
  let attempts = 0;
  let round = 0;
  const loops = Array.from({ length: count }, async (_, writer) => {
    for (let n = 0; running; n++) {
      const key = `${prefix}-${writer}-${n}`;
      const value = `${key}:${'v'.repeat(Math.max(0, valueBytes - key.length - 1))}`;
      attempts++;
      const startedIn = round;
      const startedAt = Date.now();
      try {
        const result = await put(gate, key, value, { timeoutMs: 5000 });
        if (result.status === 200) {
          acked.push({ key, value, version: (result.json as { version: number }).version, round: startedIn, startedAt, at: Date.now() });
          continue;
        }
      } catch {
        // Not acknowledged: nothing is promised about it.
      }
      await pause(20);
    }
  });
  return {
    acked,
    get attempts() {
      return attempts;
    },
    /** Acknowledgements of writes begun in `round` or later. */
    ackedSince(since: number): number {
      return acked.filter((ack) => ack.round >= since).length;
    },
    set round(value: number) {
      round = value;
    },
    get round() {
      return round;
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Puts `count` keys `${prefix}-<n>` with values from `valueOf`, `concurrency` at a time; every one must be acknowledged. */
export async function putMany(gate: string, prefix: string, count: number, valueOf: (n: number) => string, concurrency = 32): Promise<Ack[]> {
  const acked: Ack[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        const key = `${prefix}-${n}`;
        const value = valueOf(n);
        const result = await put(gate, key, value, { timeoutMs: 10_000 });
        assert.equal(result.status, 200, `put ${key}: ${result.status} ${result.body.toString().slice(0, 200)}`);
        acked.push({ key, value, version: (result.json as { version: number }).version, round: 0 });
      }
    }),
  );
  return acked;
}

/** Reads every acknowledged write back (strong reads through `baseUrl`, or eventual reads from one replica) and compares the exact value. */
export async function assertAllReadable(baseUrl: string, acked: readonly Ack[], options: { consistency?: 'strong' | 'eventual'; who?: string } = {}): Promise<void> {
  const who = options.who ?? baseUrl;
  const lost: string[] = [];
  for (let start = 0; start < acked.length; start += 64) {
    await Promise.all(
      acked.slice(start, start + 64).map(async ({ key, value }) => {
        const read = await get(baseUrl, key, { consistency: options.consistency, timeoutMs: 10_000 });
        if (read.status !== 200) lost.push(`${key}: ${read.status} ${read.body.toString().slice(0, 120)}`);
        else if (read.body.toString() !== value) lost.push(`${key}: reads ${JSON.stringify(read.body.toString().slice(0, 60))}`);
      }),
    );
  }
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acked.length} acknowledged writes are lost or wrong on ${who}`);
}

export async function replicaStatus(server: TestServer): Promise<ReplicaStatus> {
  const response = await internalGet(server, '/internal/status');
  assert.equal(response.status, 200);
  return (await response.json()) as ReplicaStatus;
}

/** Waits until `server` has applied everything its partition's leader had committed when this was called. */
export async function waitCaughtUp(cluster: TestCluster, server: TestServer, timeoutMs = 20_000): Promise<void> {
  const leader = await cluster.waitForLeader(server.partition);
  const target = (await replicaStatus(leader)).commitSeq;
  await waitFor(async () => (await replicaStatus(server)).commitSeq >= target, {
    timeoutMs,
    intervalMs: 50,
    what: `${server.id} to apply up to ${target}`,
  });
}

/** Total size of the files under `dir`. */
export function diskUse(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

/** The replica's data dir (the tests start clusters with `persistent: true`). */
export function dataDirOf(server: TestServer): string {
  assert.ok(server.options.dataDir, `${server.id} has no data dir`);
  return server.options.dataDir;
}

/** The LMDB file of a replica. */
export function lmdbFileOf(server: TestServer): string {
  return path.join(dataDirOf(server), 'kv.lmdb');
}

/** The log lines of `server` written since `fromByte` of its log file. */
export function logSince(server: TestServer, fromByte: number): string {
  const text = fs.readFileSync(server.process.logFile);
  return text.subarray(fromByte).toString('utf8');
}

export function logSize(server: TestServer): number {
  try {
    return fs.statSync(server.process.logFile).size;
  } catch {
    return 0;
  }
}

/** The followers of `partition` now (by the gate's view). */
export async function followersOf(cluster: TestCluster, partition: string): Promise<TestServer[]> {
  const leader = await cluster.waitForLeader(partition);
  return [...cluster.servers.values()].filter((server) => server.partition === partition && server.id !== leader.id);
}
