import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './harness';

export interface KvctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real kvctl binary (built) with `args`, stdin closed, and returns what it printed and its exit code. */
export function runKvctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<KvctlRun> {
  const bin = path.join(REPO_ROOT, 'packages', 'kvctl', 'bin', 'kvctl.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
