import * as os from 'node:os';
import { ManagedProcess, REPO_ROOT, waitForHealthy } from '@kvstore/testkit/harness';

/** Something this run started and must stop: a cluster, etcd, a baseline server, ZooKeeper. */
export interface Stoppable {
  /** Stops it if it still runs; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Everything this run started, stopped in the reverse order (gates before
 * servers before ZooKeeper) at the end, on an error, and on Ctrl-C. The
 * children run in process groups of their own, so the terminal's Ctrl-C
 * reaches only this process, which stops them in that order.
 */
export class Lifecycle {
  private readonly started: Stoppable[] = [];
  private whenStopped: Promise<void> | undefined;

  constructor() {
    // `on`, not `once`: a second signal must not find the default action and
    // end this process halfway through stopping (the exit hook of
    // ManagedProcess then kills whatever is left).
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (this.stopping) process.exit(128 + os.constants.signals[signal]);
        console.error(`\n${signal}: stopping everything this bench started`);
        void this.stopAll().then(() => process.exit(128 + os.constants.signals[signal]));
      });
    }
  }

  /** True once stopAll was called: whatever starts now is stopped at once. */
  get stopping(): boolean {
    return this.whenStopped !== undefined;
  }

  track<T extends Stoppable>(thing: T): T {
    this.started.push(thing);
    if (this.stopping) {
      void thing.stop();
      throw new Error('the bench is stopping');
    }
    return thing;
  }

  stopAll(): Promise<void> {
    this.whenStopped ??= (async () => {
      for (const thing of [...this.started].reverse()) await thing.stop().catch((error: Error) => console.error(`could not stop: ${error.message}`));
    })();
    return this.whenStopped;
  }
}

export interface NodeProgram {
  name: string;
  /** The compiled script to run. */
  script: string;
  args: string[];
  /** It serves GET /healthz here: http://127.0.0.1:<port>, or https:// (this process trusting its CA). */
  url: string;
  logFile: string;
  /** Node flags before the script (--cpu-prof: NODE_OPTIONS may not carry it). */
  execArgv?: string[];
}

/** Starts a Node program in a process group of its own and resolves once its /healthz answers 200. */
export async function startNodeProgram(program: NodeProgram): Promise<ManagedProcess> {
  const child = await ManagedProcess.start({
    name: program.name,
    command: process.execPath,
    args: [...(program.execArgv ?? []), program.script, ...program.args],
    logFile: program.logFile,
    cwd: REPO_ROOT,
    ownProcessGroup: true,
  });
  await waitForHealthy(child, program.url, 30_000);
  return child;
}
