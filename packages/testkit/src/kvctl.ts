import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './harness';

export interface KvctlRun {
  code: number | null;
  /** Bytes: `get` prints values as they are. */
  stdout: Buffer;
  stderr: string;
}

export interface KvctlOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Piped in, then closed (default: closed at once). */
  stdin?: string | Buffer;
}

/** Runs the real kvctl binary (built) with `args`, and returns what it printed and its exit code. */
export function runKvctl(args: string[], options: KvctlOptions = {}): Promise<KvctlRun> {
  const bin = path.join(REPO_ROOT, 'packages', 'kvctl', 'bin', 'kvctl.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...options.env }, stdio: 'pipe' });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
