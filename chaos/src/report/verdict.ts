import * as fs from 'node:fs';
import * as path from 'node:path';
import type { History } from '../history';

/** What decides the exit code. */
export interface Verdict {
  passed: boolean;
  operations: number;
  acknowledgedWrites: number;
  lostAcknowledgedWrites: number;
  linearizabilityViolations: number;
  neverWritten: number;
  staleReads: number;
  /** Keys the search could not decide within its budget (not a failure). */
  undecidedKeys: number;
}

export interface Analysis {
  verdict: Verdict;
  /** For the terminal. */
  text: string;
  report: unknown;
}

interface CheckerModule {
  checkHistory(history: History): unknown;
  formatReport(report: unknown): string;
}

function count(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'number') return value;
  return 0;
}

/**
 * Runs the checker (chaos/src/checker/analysis.ts: checkHistory and
 * formatReport), writes report.json, and reads the verdict off the report.
 */
export function analyse(history: History, outDir: string): Analysis {
  // Loaded at run time: the checker is written alongside this runner.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  let checker: CheckerModule;
  try {
    checker = require(path.join(__dirname, '..', 'checker', 'analysis.js')) as CheckerModule;
  } catch (error) {
    const verdict: Verdict = { passed: false, operations: history.operations.length, acknowledgedWrites: 0, lostAcknowledgedWrites: 0, linearizabilityViolations: 0, neverWritten: 0, staleReads: 0, undecidedKeys: 0 };
    return { verdict, text: `the checker could not be loaded: ${(error as Error).message}`, report: undefined };
  }
  const report = checker.checkHistory(history);
  fs.writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const r = report as Record<string, unknown>;
  const counts = (r.counts ?? {}) as Record<string, unknown>;
  const lin = (r.linearizability ?? {}) as Record<string, unknown>;
  const verdict: Verdict = {
    passed: false,
    operations: count(counts.operations),
    acknowledgedWrites: count(counts.acknowledgedWrites ?? counts.ackedWrites),
    lostAcknowledgedWrites: count(r.lostAckedWrites),
    linearizabilityViolations: count(lin.violations ?? r.violations),
    neverWritten: count(r.neverWritten),
    staleReads: count(r.staleReads),
    undecidedKeys: count(lin.unknown),
  };
  verdict.passed = verdict.lostAcknowledgedWrites === 0 && verdict.linearizabilityViolations === 0 && verdict.neverWritten === 0;
  return { verdict, text: checker.formatReport(report), report };
}
