/** One-line descriptions of operations, shared by explanations and the terminal report. */
import type { HistoryOperation } from '../history';

const quote = (v: string | null | undefined): string => (v === null || v === undefined ? 'absent' : JSON.stringify(v));

/** Milliseconds relative to `origin`, e.g. "+1234ms"; "?" when unknown. */
export function relativeTime(t: number | undefined, origin: number): string {
  return t === undefined ? '?' : `+${Math.round(t - origin)}ms`;
}

/** "#12 c3 read → "v7"  ok   [+100ms, +104ms] p1 (200)" */
export function describeOperation(op: HistoryOperation, origin = 0): string {
  let what: string;
  switch (op.kind) {
    case 'read':
      what = op.outcome === 'ok' ? `read → ${quote(op.result)}` : 'read';
      break;
    case 'write':
      what = `write ${quote(op.value)}`;
      break;
    case 'cas':
      what = `cas ${quote(op.expected)} → ${quote(op.value)}`;
      break;
    case 'delete':
      what = `delete ${quote(op.expected)}`;
      break;
  }
  if (op.ttlSeconds !== undefined) what += ` ttl ${op.ttlSeconds}s`;
  const where = op.partition === undefined ? '' : ` ${op.partition}`;
  const detail = op.detail === undefined ? '' : ` (${op.detail})`;
  const span = `[${relativeTime(op.invokedAt, origin)}, ${relativeTime(op.completedAt, origin)}]`;
  return `#${op.id} c${op.client} ${what.padEnd(28)} ${op.outcome.padEnd(7)} ${span}${where}${detail}`;
}
