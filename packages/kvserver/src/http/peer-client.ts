import { Agent, request } from 'undici';
import { toWire } from '../replication/entry';
import type { AppendRequest, AppendResponse, InstallSnapshotRequest, SnapshotStream } from '../replication/messages';
import type { PeerTransport } from '../replication/transport';
import { readSnapshot } from './snapshot-stream';

/** PeerTransport over HTTP with keep-alive connections (undici). */
export class HttpPeerTransport implements PeerTransport {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });

  append(url: string, message: AppendRequest, timeoutMs: number): Promise<AppendResponse> {
    return this.postJson(`${url}/internal/append`, { ...message, entries: message.entries.map(toWire) }, timeoutMs);
  }

  installSnapshot(url: string, message: InstallSnapshotRequest, timeoutMs: number): Promise<AppendResponse> {
    return this.postJson(`${url}/internal/install-snapshot`, message, timeoutMs);
  }

  async fetchSnapshot(leaderUrl: string, epoch: number, timeoutMs: number): Promise<SnapshotStream> {
    // Timeouts on silence, not on the whole transfer: a large snapshot streams for as long as it takes.
    const response = await request(`${leaderUrl}/internal/snapshot?epoch=${epoch}`, {
      dispatcher: this.agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (response.statusCode !== 200) {
      throw new Error(`snapshot from ${leaderUrl} failed: ${response.statusCode} ${await response.body.text()}`);
    }
    return readSnapshot(response.body);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async postJson<T>(url: string, body: unknown, timeoutMs: number): Promise<T> {
    const response = await request(url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }
}
