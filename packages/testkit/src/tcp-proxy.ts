import * as net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

/**
 * A TCP forwarder on 127.0.0.1 to put between two processes (a replica and
 * ZooKeeper, a gate and a replica) to fail the link between them:
 * `cut()` resets every connection and refuses new ones, like a crashed peer;
 * `blackhole()` keeps connections open but moves no bytes, like a network
 * partition, so that only timeouts notice; `restore()` heals either.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private state: 'open' | 'cut' | 'blackhole' = 'open';

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    // Half-open connections stay open so that a request ended by the client
    // still gets its answer (ZooKeeper's four-letter words work that way).
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    server.unref();
    return new TcpProxy(server, (server.address() as net.AddressInfo).port, { host: targetHost, port: targetPort });
  }

  /** "127.0.0.1:<port>", for --zk and the like. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  /** Connections currently forwarded (or held, in a blackhole). */
  get connectionCount(): number {
    return this.links.size;
  }

  cut(): void {
    this.state = 'cut';
    for (const link of this.links) this.drop(link);
  }

  blackhole(): void {
    this.state = 'blackhole';
    for (const link of this.links) this.hold(link);
  }

  restore(): void {
    // Idempotent: live links of an open proxy are already piped, and piping them twice would forward every byte twice.
    if (this.state === 'open') return;
    this.state = 'open';
    for (const link of this.links) this.forward(link);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.state === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ ...this.target, allowHalfOpen: true });
    const link = { client, upstream };
    this.links.add(link);
    // A failing side resets the other, as a broken connection would; a side
    // that closed cleanly (both directions done) takes the other with it.
    for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
      socket.on('error', () => this.drop(link));
      socket.on('close', () => {
        this.links.delete(link);
        other.destroy();
      });
    }
    if (this.state === 'blackhole') this.hold(link);
    else this.forward(link);
  }

  private forward(link: Link): void {
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  }

  private hold(link: Link): void {
    link.client.unpipe(link.upstream);
    link.upstream.unpipe(link.client);
    link.client.pause();
    link.upstream.pause();
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
  }
}
