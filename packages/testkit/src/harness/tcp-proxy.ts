import * as net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** Lag mode: what the client sent and the proxy still holds (null: the client's end), oldest first. */
  lagged?: Lagged;
}

interface Lagged {
  held: { chunk: Buffer | null; due: number }[];
  timer?: NodeJS.Timeout;
  /** Stops taking the client's bytes into `held`. */
  detach?: () => void;
}

/**
 * A TCP forwarder on 127.0.0.1 to put between two processes (a replica and
 * ZooKeeper, a gate and a replica) to fail the link between them:
 * `cut()` resets every connection and refuses new ones, like a crashed peer;
 * `blackhole()` keeps connections open but moves no bytes, like a network
 * partition, so that only timeouts notice; `lag(ms)` holds every byte from
 * client to target that long (answers are not held), like a slow link;
 * `resetConnections()` resets the live connections, dropping what is held;
 * `restore()` heals any of them (held bytes are delivered at once, in order).
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private state: 'open' | 'cut' | 'blackhole' | 'lag' = 'open';
  private lagMs = 0;

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

  /** Bytes from clients that a lag (or a blackhole after one) holds, not yet delivered. */
  get heldBytes(): number {
    let bytes = 0;
    for (const link of this.links) for (const { chunk } of link.lagged?.held ?? []) bytes += chunk?.length ?? 0;
    return bytes;
  }

  cut(): void {
    this.state = 'cut';
    for (const link of this.links) this.drop(link);
  }

  blackhole(): void {
    this.state = 'blackhole';
    for (const link of this.links) this.hold(link);
  }

  /** From now on, bytes from clients reach the target `ms` later, in order; bytes already held keep their time. */
  lag(ms: number): void {
    if (!(ms > 0)) throw new RangeError(`lag must be a positive number of ms, not ${ms}`);
    this.lagMs = ms;
    if (this.state === 'lag') return;
    this.state = 'lag';
    for (const link of this.links) this.delay(link);
  }

  /** Resets every live connection, dropping the bytes a lag or blackhole holds; new ones are taken as before. */
  resetConnections(): void {
    for (const link of this.links) this.drop(link);
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
    // No Nagle on either leg: a network does not hold back small segments,
    // only a sender does, and the programs on both ends already turn it off
    // (held, a pipelined request waits for the peer's delayed ack, ~40 ms).
    client.setNoDelay(true);
    const upstream = net.connect({ ...this.target, allowHalfOpen: true, noDelay: true });
    const link: Link = { client, upstream };
    this.links.add(link);
    // A failing side resets the other, as a broken connection would; a side
    // that closed cleanly (both directions done) takes the other with it.
    for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
      socket.on('error', () => this.drop(link));
      socket.on('close', () => {
        this.links.delete(link);
        clearTimeout(link.lagged?.timer);
        other.destroy();
      });
    }
    if (this.state === 'blackhole') this.hold(link);
    else if (this.state === 'lag') this.delay(link);
    else this.forward(link);
  }

  private forward(link: Link): void {
    this.stopLag(link);
    if (link.lagged) this.deliver(link, Infinity);
    link.lagged = undefined;
    // unpipe first: from lag, the answers are piped already.
    link.upstream.unpipe(link.client);
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  }

  /** Client bytes go into `held` and out when due; answers flow as they come. */
  private delay(link: Link): void {
    const { client, upstream } = link;
    client.unpipe(upstream);
    upstream.unpipe(client);
    upstream.pipe(client);
    const lagged: Lagged = link.lagged ?? { held: [] };
    link.lagged = lagged;
    const take = (chunk: Buffer | null): void => {
      lagged.held.push({ chunk, due: Date.now() + this.lagMs });
      this.schedule(link);
    };
    const onData = (chunk: Buffer): void => take(chunk);
    const onEnd = (): void => take(null);
    client.on('data', onData).once('end', onEnd);
    lagged.detach = () => client.off('data', onData).off('end', onEnd);
    client.resume();
    this.schedule(link);
  }

  private schedule(link: Link): void {
    const lagged = link.lagged;
    if (!lagged || lagged.timer || !lagged.detach || lagged.held.length === 0) return;
    lagged.timer = setTimeout(() => {
      lagged.timer = undefined;
      this.deliver(link, Date.now());
      this.schedule(link);
    }, lagged.held[0].due - Date.now());
  }

  /** Writes the held bytes due by `until` to the target. */
  private deliver(link: Link, until: number): void {
    const held = link.lagged?.held ?? [];
    while (held.length > 0 && held[0].due <= until) {
      const { chunk } = held.shift()!;
      if (chunk === null) link.upstream.end();
      else link.upstream.write(chunk);
    }
  }

  /** Stops taking and delivering client bytes; what is held stays held. */
  private stopLag(link: Link): void {
    if (!link.lagged) return;
    clearTimeout(link.lagged.timer);
    link.lagged.timer = undefined;
    link.lagged.detach?.();
    link.lagged.detach = undefined;
  }

  private hold(link: Link): void {
    this.stopLag(link);
    link.client.unpipe(link.upstream);
    link.upstream.unpipe(link.client);
    link.client.pause();
    link.upstream.pause();
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    this.stopLag(link);
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
  }
}
