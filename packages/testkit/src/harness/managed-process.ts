import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessSpec {
  /** Shown in messages: "kvserver p0-r1". */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Run in a process group of its own, out of reach of the terminal's Ctrl-C,
   * for a parent that stops its children itself and in order.
   */
  ownProcessGroup?: boolean;
}

// Every child still running when this process exits is killed, so that a
// crashed test or script does not leave servers holding ports behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A child process started by us, addressed only through its own handle (so by
 * its PID, and never after it exited, when the PID could belong to another).
 */
export class ManagedProcess {
  private readonly exitStatusPromise: Promise<ExitStatus>;
  private status: ExitStatus | undefined;
  private paused = false;

  private constructor(
    readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    this.exitStatusPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
    });
    // Signalling errors are already reported by signal()'s return value.
    child.on('error', () => undefined);
  }

  static async start(spec: ProcessSpec): Promise<ManagedProcess> {
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    fs.appendFileSync(spec.logFile, `--- ${new Date().toISOString()} start: ${spec.command} ${spec.args.join(' ')}\n`);
    const logFd = fs.openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        stdio: ['ignore', logFd, logFd],
        env: spec.env ?? process.env,
        cwd: spec.cwd,
        detached: spec.ownProcessGroup ?? false,
      });
    } finally {
      fs.closeSync(logFd); // the child has its own copy of the descriptor
    }
    running.add(child);
    child.once('exit', () => running.delete(child));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`could not start ${spec.name} (${spec.command}): ${error.message}`)));
    });
    // A child nobody waits for must not keep a test process alive (the exit
    // hook above cleans it up); `exited` takes the reference back.
    child.unref();
    return new ManagedProcess(spec, child, child.pid as number);
  }

  /** Resolves when it exits; asking for it keeps this process alive until then. */
  get exited(): Promise<ExitStatus> {
    if (this.running) this.child.ref();
    return this.exitStatusPromise;
  }

  get name(): string {
    return this.spec.name;
  }

  get logFile(): string {
    return this.spec.logFile;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** How it ended, or undefined while it runs. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Sends `sig` unless the process already exited; true if it was sent. */
  signal(sig: NodeJS.Signals): boolean {
    if (!this.running) return false;
    const sent = this.child.kill(sig);
    if (sent && sig === 'SIGSTOP') this.paused = true;
    if (sent && sig === 'SIGCONT') this.paused = false;
    return sent;
  }

  kill(): Promise<ExitStatus> {
    this.signal('SIGKILL');
    return this.exited;
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    // A stopped process only acts on SIGTERM once it runs again.
    if (this.paused) this.resume();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    return outcome === 'timeout' ? this.kill() : outcome;
  }

  /** The last `lines` lines of the log, for error messages. */
  logTail(lines = 40): string {
    try {
      const text = fs.readFileSync(this.logFile, 'utf8');
      return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
    } catch {
      return '(no log)';
    }
  }

  describeExit(): string {
    if (this.status === undefined) return 'running';
    return this.status.signal ? `killed by ${this.status.signal}` : `exited with code ${this.status.code}`;
  }
}
