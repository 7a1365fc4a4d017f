import * as net from 'node:net';

/**
 * Asks the kernel for a free port on 127.0.0.1. The port is released before it
 * is returned, so another process could take it in between: fine for one
 * process, but a cluster's ports are taken with HeldPorts.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/** True when nothing listens on 127.0.0.1:<port> (nor on a wildcard address that covers it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Loopback ports, each held by a listener of ours until the process that is
 * to bind it is about to start. A port merely found free (freePort) could
 * meanwhile be handed to another of our processes, as a listening or an
 * outgoing port; holding them all first rules that out.
 */
export class HeldPorts {
  private constructor(private readonly listeners: Map<number, net.Server>) {}

  static async hold(count: number): Promise<HeldPorts> {
    const listeners = await Promise.all(
      Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
        const listener = net.createServer();
        listener.once('error', reject);
        listener.listen(0, '127.0.0.1', () => resolve(listener));
      })),
    );
    return new HeldPorts(new Map(listeners.map((listener) => [(listener.address() as net.AddressInfo).port, listener])));
  }

  get ports(): number[] {
    return [...this.listeners.keys()];
  }

  /** Lets go of `port`, for the process about to bind it. */
  release(port: number): Promise<void> {
    const listener = this.listeners.get(port);
    this.listeners.delete(port);
    return new Promise((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
  }

  releaseAll(): Promise<void> {
    return Promise.all(this.ports.map((port) => this.release(port))).then(() => undefined);
  }
}
