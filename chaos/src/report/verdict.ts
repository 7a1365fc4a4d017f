import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkHistory, formatReport, type CheckOptions, type Report } from '../checker/analysis';
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
  report: Report;
}

/** Runs the checker, writes report.json, and reads the verdict off the report. */
export function analyse(history: History, outDir: string, options: CheckOptions = {}): Analysis {
  const report = checkHistory(history, options);
  fs.writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const verdict: Verdict = {
    passed: false,
    operations: report.operations.total,
    acknowledgedWrites: report.acknowledgedWrites,
    lostAcknowledgedWrites: report.lostWrites.count,
    linearizabilityViolations: report.linearizability.violations.count,
    neverWritten: report.neverWritten.count,
    staleReads: report.staleReads.count,
    undecidedKeys: report.linearizability.unknown.count,
  };
  verdict.passed = verdict.lostAcknowledgedWrites === 0 && verdict.linearizabilityViolations === 0 && verdict.neverWritten === 0;
  return { verdict, text: formatReport(report), report };
}
