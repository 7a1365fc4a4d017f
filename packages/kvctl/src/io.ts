/** The streams and environment kvctl runs with, injected so tests can run it in-process. */

export interface ProgramIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where `put` reads a value from and the shell reads its commands from; `isTTY` as on process.stdin. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal; decides the newline after `get` and the shell's line editing. Default false. */
  isTTY?: boolean;
  /** Whether stderr is a terminal; decides whether backup and restore draw a progress bar there. Default false. */
  stderrIsTTY?: boolean;
  /** Called once with the exit code when a run ends. */
  exit?: (code: number) => void;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
