import * as net from 'node:net';

/**
 * Asks the kernel for a free port on 127.0.0.1. The port is released before it
 * is returned, so another process could take it in between; that window is
 * small enough for tests, and a clash shows up as a clear "address in use"
 * in the starting process's log.
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
