import * as os from 'node:os';

// A signal would end a test process without running its 'exit' hooks, which
// kill the servers it started and remove its temp dirs; exiting instead runs them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
}
