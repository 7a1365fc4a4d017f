/** The kvctl executable: process streams in, exit code out. */
import { createProgram } from './program';

// A reader that stops early (`kvctl get k | head -c 1`) is not an error of kvctl.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

void createProgram({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  // exitCode rather than process.exit(), so a large value piped to stdout is written out in full first.
  exit: (code) => {
    process.exitCode = code;
  },
}).run(process.argv.slice(2));
