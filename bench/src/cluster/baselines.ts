import * as path from 'node:path';
import type { Tracked } from './cpu';
import { freePort, type ManagedProcess } from '@kvstore/testkit/harness';
import { startNodeProgram, type Stoppable } from './lifecycle';

/** A raw node:http server in a process of its own (see baseline-server.ts), to measure the cluster against. */
export class BaselineServer implements Stoppable {
  private constructor(
    readonly url: string,
    private readonly child: ManagedProcess,
  ) {}

  static async start(kind: 'fixed' | 'map', logDir: string): Promise<BaselineServer> {
    const port = await freePort();
    const child = await startNodeProgram({
      name: `baseline ${kind}`,
      script: path.join(__dirname, 'baseline-server.js'),
      args: [kind, String(port)],
      url: `http://127.0.0.1:${port}`,
      logFile: path.join(logDir, `baseline-${kind}.log`),
    });
    return new BaselineServer(`http://127.0.0.1:${port}`, child);
  }

  tracked(): Promise<Tracked[]> {
    return Promise.resolve([{ pid: this.child.pid, kind: 'baseline' }]);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
