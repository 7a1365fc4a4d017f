import { type ClusterAuth, type ClusterTls } from '@kvstore/cluster';
import { Agent, buildConnector, request } from 'undici';
import { FrameKind, MuxPool } from '@kvstore/wire';
import type { AppendRequest, AppendResponse, InstallSnapshotRequest, SnapshotStream } from '../replication/messages';
import type { PeerTransport } from '../replication/transport';
import { readSnapshot } from './snapshot-stream';
import { encodeAppend } from './append-codec';
import { decodeImportResponse, encodeImport } from './import-codec';
import type { ImportRequest, ImportResponse, SlotTransport } from '../migration/messages';

/**
 * Replica to replica: appends and snapshot orders over the multiplexed
 * internal protocol (one persistent connection per follower, binary
 * entries); the snapshot itself streams over plain HTTP, where undici's
 * flow control does the work. Both prove the cluster secret.
 */
export class MuxPeerTransport implements PeerTransport, SlotTransport {
  private readonly auth: ClusterAuth;
  private readonly pool: MuxPool;
  private readonly snapshots: Agent;

  /** With `tls`: https:// peers verified against the cluster CA, this replica's certificate presented. */
  constructor(options: { auth: ClusterAuth; maxFrameBytes: number; tls?: ClusterTls | undefined }) {
    const { tls } = options;
    this.auth = options.auth;
    this.pool = new MuxPool({ credentials: options.auth.muxCredentials, maxFrameBytes: options.maxFrameBytes, connectTimeoutMs: 1000, tls: tls && (() => tls.clientOptions()) });
    this.snapshots = new Agent({ keepAliveTimeout: 30_000, connections: 2, ...(tls && { connect: tls.connector(buildConnector, 10_000) }) });
  }

  async append(url: string, message: AppendRequest, timeoutMs: number): Promise<AppendResponse> {
    const answer = await this.pool.call(url, FrameKind.append, encodeAppend(message), timeoutMs);
    return JSON.parse(answer.toString('utf8')) as AppendResponse;
  }

  async importSlots(url: string, message: ImportRequest, timeoutMs: number): Promise<ImportResponse> {
    return decodeImportResponse(await this.pool.call(url, FrameKind.importSlots, encodeImport(message), timeoutMs));
  }

  async installSnapshot(url: string, message: InstallSnapshotRequest, timeoutMs: number): Promise<AppendResponse> {
    const answer = await this.pool.call(url, FrameKind.installSnapshot, Buffer.from(JSON.stringify(message)), timeoutMs);
    return JSON.parse(answer.toString('utf8')) as AppendResponse;
  }

  async fetchSnapshot(leaderUrl: string, epoch: number, timeoutMs: number): Promise<SnapshotStream> {
    // Timeouts on silence, not on the whole transfer: a large snapshot streams for as long as it takes.
    const path = `/internal/snapshot?epoch=${epoch}`;
    const response = await request(`${leaderUrl}${path}`, {
      dispatcher: this.snapshots,
      headers: this.auth.headersFor('GET', path),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (response.statusCode !== 200) {
      throw new Error(`snapshot from ${leaderUrl} failed: ${response.statusCode} ${await response.body.text()}`);
    }
    return readSnapshot(response.body);
  }

  async close(): Promise<void> {
    await this.pool.close();
    await this.snapshots.close();
  }
}
