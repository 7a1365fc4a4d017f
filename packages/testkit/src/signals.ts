import * as os from 'node:os';

// A signal would end a test process without running its 'exit' hooks, which
// kill the servers it started and remove its temp dirs; exiting instead runs
// them. The handlers stay installed (`on`, not `once`): a second signal (the
// test runner and the process group both send one) must not find the default
// action back in place and kill the process in the middle of its hooks.
let exiting = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    process.exit(128 + os.constants.signals[signal]);
  });
}
