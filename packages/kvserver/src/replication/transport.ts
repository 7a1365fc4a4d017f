import type { AppendRequest, AppendResponse, InstallSnapshotRequest, SnapshotStream } from './messages';

/**
 * The replica-to-replica data path. The real one is wire/peer-transport.ts
 * (the internal protocol); tests use an in-memory network. A failure to reach
 * the peer rejects; a peer's refusal is an ordinary response.
 */
export interface PeerTransport {
  append(url: string, request: AppendRequest, timeoutMs: number): Promise<AppendResponse>;
  installSnapshot(url: string, request: InstallSnapshotRequest, timeoutMs: number): Promise<AppendResponse>;
  fetchSnapshot(leaderUrl: string, epoch: number, timeoutMs: number): Promise<SnapshotStream>;
}
