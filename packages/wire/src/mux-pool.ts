import type { ConnectionOptions } from 'node:tls';
import type { RequestKind } from './frames';
import { MuxConnection, type MuxChoice, type MuxConnectionOptions, type MuxCredentials } from './mux-connection';
import { TransportError } from './transport-error';

export interface MuxPoolOptions {
  /** Proves who this is to every replica (a peer's cluster proof, a client's token). */
  credentials: MuxCredentials;
  /** The longest answer frame accepted. */
  maxFrameBytes: number;
  /** Bound on establishing a connection; past it the waiting requests fail as `refused`. */
  connectTimeoutMs?: number;
  /** Connections per replica. One carries any number of requests; a second spreads the work of large values. */
  connectionsPerOrigin?: number;
  /** For https:// replicas: the cluster CA and this process's certificate, current at each new connection. */
  tls?: () => ConnectionOptions;
}

/**
 * Multiplexed connections to each replica, opened on first use and
 * replaced when they close. A request goes to the least loaded one.
 */
export class MuxPool {
  private readonly origins = new Map<string, MuxConnection[]>();
  private readonly connectionOptions: MuxConnectionOptions;
  private readonly size: number;
  private closing = false;

  constructor(options: MuxPoolOptions) {
    this.connectionOptions = { credentials: options.credentials, maxFrameBytes: options.maxFrameBytes, connectTimeoutMs: options.connectTimeoutMs ?? 1000, tls: options.tls };
    this.size = options.connectionsPerOrigin ?? 1;
  }

  /** `url` is the replica's base url (`http://host:port`); resolves to the answer's payload. */
  call(url: string, kind: RequestKind, payload: Buffer | readonly Buffer[], timeoutMs: number): Promise<Buffer> {
    if (this.closing) return Promise.reject(new TransportError('refused', `${url}: the connection pool is closed`));
    return this.connectionTo(url).call(kind, payload, timeoutMs);
  }

  /** As call, with what to send picked by the request kinds the replica serves (a rolling upgrade). */
  callChoosing(url: string, choose: MuxChoice, timeoutMs: number): Promise<Buffer> {
    if (this.closing) return Promise.reject(new TransportError('refused', `${url}: the connection pool is closed`));
    return this.connectionTo(url).callChoosing(choose, timeoutMs);
  }

  /** Open connections per replica url (for metrics). */
  connectionCounts(): Map<string, number> {
    return new Map([...this.origins].map(([url, connections]) => [url, connections.length]));
  }

  close(): Promise<void> {
    this.closing = true;
    for (const connections of this.origins.values()) for (const connection of connections) connection.close();
    this.origins.clear();
    return Promise.resolve();
  }

  private connectionTo(url: string): MuxConnection {
    let connections = this.origins.get(url);
    if (!connections) {
      connections = [];
      this.origins.set(url, connections);
    }
    if (connections.length < this.size) {
      const connection = new MuxConnection(new URL(url), this.connectionOptions, (closed) => this.forget(url, closed));
      connections.push(connection);
      return connection;
    }
    let best = connections[0]!;
    for (const connection of connections) if (connection.load < best.load) best = connection;
    return best;
  }

  private forget(url: string, closed: MuxConnection): void {
    const connections = this.origins.get(url);
    if (!connections) return;
    const index = connections.indexOf(closed);
    if (index >= 0) connections.splice(index, 1);
    if (connections.length === 0) this.origins.delete(url);
  }
}
