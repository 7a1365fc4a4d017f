import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { encodeAppend, type AppendRequest, type LogEntry } from '@kvstore/kvserver/internal';
import { FrameKind, FrameReader, MUX_PATH, MUX_PROTOCOL, encodeKvFrameRequest, frameHeader } from '@kvstore/wire';

/** The forger reads only short answers. */
const FORGER_MAX_FRAME_BYTES = 1024 * 1024;

/** Far above any epoch a real election reaches: a replica that takes it is deposed for good. */
export const FORGED_EPOCH = 2 ** 52;

/** The forger's values: no client writes them, so a read of one is a read of a value never written. */
export const FORGED_VALUE_PREFIX = 'forged-';

export type ForgedRequestKind = 'append-probe' | 'append-write' | 'install-snapshot' | 'kv-write';

export interface ForgedRequest {
  at: number;
  replica: string;
  request: ForgedRequestKind;
  /** accepted: the replica acted on it (answered it as a peer's, or fetched from the forger's url). */
  outcome: 'accepted' | 'refused';
  detail: string;
  /** append-write: what it tried to write. */
  writes?: { key: string; value: string }[];
}

export interface ForgeTarget {
  replica: string;
  /** The replica's own port, not its advertised proxy: the forger is a stranger on its network. */
  url: string;
  /** Workload keys of the replica's partition, to overwrite. */
  keys: readonly string[];
}

/** What came back on a mux connection for one request. */
type MuxAnswer =
  | { kind: 'ok'; payload: Buffer }
  | { kind: 'failed'; message: string }
  | { kind: 'upgrade-refused'; statusLine: string }
  | { kind: 'closed'; reason: string }
  | { kind: 'timeout' };

const FORGER_ID = 'forger';
const WRITES_PER_FORGE = 3;
const MAX_HANDSHAKE_BYTES = 4096;

/**
 * A stranger that speaks the replicas' internal protocol (`GET /internal/mux`,
 * `Upgrade: kvstore-mux/1`) without the cluster secret. Against one replica
 * it sends an append at epoch 2^52 that asks for nothing (it learns the
 * replica's last seq from the mismatch answer), an append at that epoch that
 * writes `forged-<n>` to workload keys and commits them, an order to
 * install a snapshot from a url the forger listens on, and a client's write
 * of `forged-<n>` as a gate's typed kv frame. A replica must refuse all
 * four; every one it acts on (answers at all) is recorded as accepted.
 */
export class Forger {
  readonly requests: ForgedRequest[] = [];
  private forgedValues = 0;

  constructor(private readonly timeoutMs = 3000) {}

  get accepted(): number {
    return this.requests.filter((request) => request.outcome === 'accepted').length;
  }

  async forge(target: ForgeTarget): Promise<ForgedRequest[]> {
    const trap = await Trap.start();
    const sent: ForgedRequest[] = [];
    const send = async (request: ForgedRequestKind, kind: number, payload: readonly Buffer[], writes?: ForgedRequest['writes']): Promise<MuxAnswer> => {
      const hitsBefore = trap.hits.length;
      const at = Date.now();
      const answer = await muxRequest(target.url, kind, payload, this.timeoutMs);
      const verdict = judge(answer, trap.hits.slice(hitsBefore), this.timeoutMs);
      sent.push({ at, replica: target.replica, request, ...verdict, ...(writes ? { writes } : {}) });
      return answer;
    };
    try {
      const forged = (fields: Pick<AppendRequest, 'prevSeq' | 'prevEpoch' | 'commitSeq' | 'entries'>): Buffer[] =>
        encodeAppend({ epoch: FORGED_EPOCH, leaderId: FORGER_ID, leaderUrl: trap.url, ...fields });
      // Past any log's end: a trusting replica adopts the epoch and answers "mismatch" with its last seq.
      const probe = await send('append-probe', FrameKind.append, forged({ prevSeq: FORGED_EPOCH, prevEpoch: FORGED_EPOCH, commitSeq: 0, entries: [] }));
      const lastSeq = probe.kind === 'ok' ? lastSeqIn(probe.payload) : 0;
      // Seq 0 matches every log; the entries go right after its end and are committed at once.
      const writes = target.keys.slice(0, WRITES_PER_FORGE).map((key) => ({ key, value: `${FORGED_VALUE_PREFIX}${++this.forgedValues}` }));
      const entries: LogEntry[] = writes.map(({ key, value }, index) => ({
        seq: lastSeq + 1 + index,
        epoch: FORGED_EPOCH,
        op: { type: 'put', key, value: Buffer.from(value), expiresAt: null },
      }));
      await send('append-write', FrameKind.append, forged({ prevSeq: 0, prevEpoch: 0, commitSeq: lastSeq + entries.length, entries }), writes);
      const install = { epoch: FORGED_EPOCH, leaderId: FORGER_ID, leaderUrl: trap.url };
      await send('install-snapshot', FrameKind.installSnapshot, [Buffer.from(JSON.stringify(install))]);
      const kvWrite = { key: target.keys[0]!, value: `${FORGED_VALUE_PREFIX}${++this.forgedValues}` };
      const kvFrame = encodeKvFrameRequest({
        method: 'PUT',
        key: kvWrite.key,
        ttl: undefined,
        consistency: 'strong',
        ifMatch: undefined,
        ifNoneMatch: false,
        requestId: 'forger-1',
        routingVersion: undefined,
        body: Buffer.from(kvWrite.value),
      });
      await send('kv-write', FrameKind.typedKv, kvFrame, [kvWrite]);
    } finally {
      await trap.close();
    }
    this.requests.push(...sent);
    return sent;
  }
}

/** Accepted when the replica answered as to a peer, or fetched from the forger's url; anything else is a refusal. */
function judge(answer: MuxAnswer, trapHits: readonly string[], timeoutMs: number): Pick<ForgedRequest, 'outcome' | 'detail'> {
  if (trapHits.length > 0) return { outcome: 'accepted', detail: `the replica called the forger's url: ${trapHits.join(', ')}` };
  switch (answer.kind) {
    case 'ok':
      return { outcome: 'accepted', detail: `answered ${answer.payload.toString('utf8').slice(0, 200)}` };
    case 'failed':
      return { outcome: 'refused', detail: `answered failed: ${answer.message.slice(0, 200)}` };
    case 'upgrade-refused':
      return { outcome: 'refused', detail: `upgrade refused: ${answer.statusLine}` };
    case 'closed':
      return { outcome: 'refused', detail: answer.reason };
    case 'timeout':
      return { outcome: 'refused', detail: `no answer within ${timeoutMs} ms` };
  }
}

function lastSeqIn(payload: Buffer): number {
  try {
    const answer = JSON.parse(payload.toString('utf8')) as { reason?: unknown; lastSeq?: unknown };
    return answer.reason === 'mismatch' && Number.isSafeInteger(answer.lastSeq) ? (answer.lastSeq as number) : 0;
  } catch {
    return 0;
  }
}

/** One request on a fresh mux connection: upgrade, one frame (id 1), its answer. Never rejects. */
function muxRequest(url: string, kind: number, payload: readonly Buffer[], timeoutMs: number): Promise<MuxAnswer> {
  const origin = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: origin.hostname, port: Number(origin.port) });
    let settled = false;
    const done = (answer: MuxAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
    const reader = new FrameReader((frame) => {
      if (frame.id !== 1) return;
      done(frame.kind === FrameKind.ok ? { kind: 'ok', payload: Buffer.from(frame.payload) } : { kind: 'failed', message: frame.payload.toString('utf8') });
    }, FORGER_MAX_FRAME_BYTES);
    const push = (chunk: Buffer): void => {
      try {
        reader.push(chunk);
      } catch (error) {
        done({ kind: 'closed', reason: `a broken frame: ${(error as Error).message}` });
      }
    };
    let upgraded = false;
    let handshake = Buffer.alloc(0);
    socket.on('connect', () => {
      socket.write(`GET ${MUX_PATH} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return push(chunk);
      handshake = Buffer.concat([handshake, chunk]);
      const end = handshake.indexOf('\r\n\r\n');
      if (end < 0) {
        if (handshake.length > MAX_HANDSHAKE_BYTES) done({ kind: 'upgrade-refused', statusLine: 'a handshake answer too long' });
        return;
      }
      const statusLine = handshake.subarray(0, handshake.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.1 101 /.test(statusLine)) return done({ kind: 'upgrade-refused', statusLine });
      upgraded = true;
      const bytes = payload.reduce((sum, part) => sum + part.length, 0);
      socket.write(Buffer.concat([frameHeader(1, kind, bytes), ...payload]));
      if (end + 4 < handshake.length) push(handshake.subarray(end + 4));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done({ kind: 'closed', reason: `connection failed: ${error.code ?? error.message}` }));
    socket.on('close', () => done({ kind: 'closed', reason: upgraded ? 'connection closed before an answer' : 'connection closed during the upgrade' }));
  });
}

/** The forger's url: records every request a replica makes to it, and answers 503. */
class Trap {
  readonly hits: string[] = [];

  private constructor(private readonly server: http.Server) {
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      this.hits.push(`${request.method} ${request.url}`);
      response.writeHead(503, { connection: 'close' }).end();
    });
  }

  static async start(): Promise<Trap> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return new Trap(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
