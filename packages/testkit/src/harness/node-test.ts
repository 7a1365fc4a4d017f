/** How a suite of test files is run: the settings scripts/run-tests.ts gives each suite. */
export interface NodeTestSettings {
  /** Test files run side by side (each in a process of its own). */
  concurrency: number;
  /**
   * Per test and per file (node --test times out a file's process as a
   * whole too), so that one hang, or a handle a file leaves open, cannot
   * eat the CI budget: it fails, named.
   */
  timeoutMs: number;
  /** Human-readable output (for a terminal); TAP otherwise, which the runner reads. */
  spec?: boolean;
}

/**
 * `node` arguments that run `files` with node's test runner. Not
 * --test-force-exit: a file's process ended by it can take the last results
 * it ran with it (nodejs/node#64833), so passes went missing from the count
 * and a failure would show only as its file's "test failed". A file that
 * leaves a handle open times out instead (timeoutMs).
 */
export function nodeTestArgs(settings: NodeTestSettings, files: readonly string[]): string[] {
  return [
    '--test',
    `--test-concurrency=${settings.concurrency}`,
    `--test-timeout=${settings.timeoutMs}`,
    ...(settings.spec ? ['--test-reporter=spec'] : []),
    ...files,
  ];
}
