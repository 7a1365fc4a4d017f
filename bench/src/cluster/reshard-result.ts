import type { MigrationView } from '@kvstore/protocol';
import type { AnswerLog, WindowRow } from './answer-log';
import type { LoadResult } from './load';
import type { ReadBackResult } from './read-back';
import { stepName, type ReshardStep } from './reshard-steps';

/** The phases of a step, in order: `starting` runs from the step's start (replicas started, or the admin request sent) to its migration's own `startedAt`, `during` to its `finishedAt`, `after` to the next step's start (or the load's end). */
export const STEP_PHASES = ['starting', 'during', 'after'] as const;

/** A step as it ran: when the bench started it, and its migration as the gate showed it once done. */
export interface StepMarks {
  step: ReshardStep;
  startedAt: number;
  migration: MigrationView;
}

type Latency = LoadResult['latencyMs'];

export interface StepResult extends ReshardStep {
  name: string;
  migration: MigrationView;
  /** finishedAt − startedAt of the migration, in seconds. */
  migrationSeconds: number;
  /** During the migration: client req/s, and as a ratio of req/s before the first step (null when no answer came during it). */
  reqPerSecDuring: number;
  throughputRatio: number | null;
  /** During the migration: the latency of every request, and the slowest write (PUT or DELETE). */
  latencyMs: Latency;
  worstWriteMs: number;
  /** Over the step's three phases: errors, and of them the 503s of a cut-over wait that ran out. */
  errors: number;
  cutoverWaits: number;
}

export interface ReshardTotals {
  /** From the first step's start to the last migration's end. */
  seconds: number;
  migrationSeconds: number;
  keysMoved: number;
  /** From the first step's start to the load's end: req/s as a ratio of before, latency, slowest write. */
  throughputRatio: number | null;
  latencyMs: Latency;
  worstWriteMs: number;
  /** The longest write pause of any migration (`pauseMsMax`). */
  worstPauseMs: number;
  /** Over the whole load, before included. */
  errors: number;
  cutoverWaits: number;
}

export interface ReshardResult {
  /** Keys loaded before the first step, and how long that took. */
  keys: number;
  loadSeconds: number;
  steps: StepResult[];
  totals: ReshardTotals;
  /** Every key read back once the load stopped. */
  check: ReadBackResult;
}

/** Rows' names: "reshard before", "reshard add p2 during". */
export const rowName = (phase: string): string => `reshard ${phase}`;
export const stepPhase = (step: ReshardStep, phase: (typeof STEP_PHASES)[number]): string => `${stepName(step)} ${phase}`;

/**
 * The windows of the load, back to back from its start to its end: before,
 * then each step's phases, cut by the bench's own start of each step and the
 * migration's stamps (clamped, so that they follow each other even if a
 * clock stepped).
 */
export function phaseWindows(loadStartedAt: number, marks: StepMarks[], stoppedAt: number): Array<{ phase: string; from: number; to: number }> {
  const windows: Array<{ phase: string; from: number; to: number }> = [];
  let cursor = loadStartedAt;
  const cut = (phase: string, until: number): void => {
    const to = Math.max(cursor, until);
    windows.push({ phase, from: cursor, to });
    cursor = to;
  };
  cut('before', marks[0]?.startedAt ?? stoppedAt);
  marks.forEach(({ step, migration }, index) => {
    cut(stepPhase(step, 'starting'), migration.startedAt);
    cut(stepPhase(step, 'during'), migration.finishedAt!);
    cut(stepPhase(step, 'after'), marks[index + 1]?.startedAt ?? stoppedAt);
  });
  return windows;
}

const ratio = (rate: number, before: WindowRow): number | null => (before.requests > 0 && rate > 0 ? rate / before.reqPerSec : null);

/** The figures of each step and the totals, from the phase rows (named as phaseWindows names them) and the answers. */
export function summarize(
  rows: WindowRow[],
  marks: StepMarks[],
  answers: AnswerLog,
  stoppedAt: number,
  connections: number,
): Pick<ReshardResult, 'steps' | 'totals'> {
  const row = (phase: string): WindowRow => rows.find((candidate) => candidate.name === rowName(phase))!;
  const before = row('before');
  const steps = marks.map(({ step, migration }): StepResult => {
    const phases = STEP_PHASES.map((phase) => row(stepPhase(step, phase)));
    const during = phases[1]!;
    return {
      ...step,
      name: stepName(step),
      migration,
      migrationSeconds: (migration.finishedAt! - migration.startedAt) / 1000,
      reqPerSecDuring: during.reqPerSec,
      throughputRatio: ratio(during.requests > 0 ? during.reqPerSec : 0, before),
      latencyMs: during.latencyMs,
      worstWriteMs: during.writeLatencyMs.max,
      errors: phases.reduce((sum, phase) => sum + phase.errors, 0),
      cutoverWaits: phases.reduce((sum, phase) => sum + phase.cutoverWaits, 0),
    };
  });
  const first = marks[0]!;
  const last = marks[marks.length - 1]!;
  const span = answers.window('steps', first.startedAt, stoppedAt, connections);
  return {
    steps,
    totals: {
      seconds: (last.migration.finishedAt! - first.startedAt) / 1000,
      migrationSeconds: steps.reduce((sum, step) => sum + step.migrationSeconds, 0),
      keysMoved: steps.reduce((sum, step) => sum + step.migration.keysMoved, 0),
      throughputRatio: ratio(span.reqPerSec, before),
      latencyMs: span.latencyMs,
      worstWriteMs: span.writeLatencyMs.max,
      worstPauseMs: Math.max(...steps.map((step) => step.migration.pauseMsMax)),
      errors: rows.reduce((sum, phase) => sum + phase.errors, 0),
      cutoverWaits: rows.reduce((sum, phase) => sum + phase.cutoverWaits, 0),
    },
  };
}
