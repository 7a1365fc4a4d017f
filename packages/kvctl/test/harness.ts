/** Runs kvctl in-process with captured streams, as a test would run the real executable. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createProgram } from '../src/index';

export interface RunOptions {
  stdin?: string | Buffer;
  /** Makes stdin look like a terminal (and so not a value source). */
  stdinIsTTY?: boolean;
  isTTY?: boolean;
  /** Makes stderr look like a terminal (progress bars are drawn). */
  stderrIsTTY?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  /** What was passed to the injected exit(). */
  exitedWith: number | undefined;
}

export async function runKvctl(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const stdout = collect();
  const stderr = collect();
  const stdin = Object.assign(new PassThrough(), { isTTY: options.stdinIsTTY });
  stdin.end(options.stdin ?? '');
  let exitedWith: number | undefined;
  const code = await createProgram({
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin,
    env: options.env ?? {},
    isTTY: options.isTTY,
    stderrIsTTY: options.stderrIsTTY,
    exit: (value) => (exitedWith = value),
  }).run(argv);
  return { code, stdout: stdout.bytes(), stderr: stderr.bytes().toString('utf8'), exitedWith };
}

/** `kvctl --host <gate> ...`, and its stdout as text when it exits 0 (else the assertion names the command and its stderr). */
export function kvctlAt(host: () => string) {
  const kvctl = (argv: string[], options: RunOptions = {}) => runKvctl(['--host', host(), ...argv], options);
  const out = async (argv: string[], options: RunOptions = {}): Promise<string> => {
    const result = await kvctl(argv, options);
    assert.equal(result.code, 0, `${argv.join(' ')}: ${result.stderr}`);
    return result.stdout.toString();
  };
  return { kvctl, out };
}

function collect(): { stream: PassThrough; bytes: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, bytes: () => Buffer.concat(chunks) };
}
