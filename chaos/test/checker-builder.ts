/** Small builders for hand-made histories in the checker tests. */
import type { FaultEvent, History, HistoryOperation, Outcome } from '../src/history';

export class HistoryBuilder {
  readonly operations: HistoryOperation[] = [];
  readonly faults: FaultEvent[] = [];
  private nextId = 1;

  constructor(private readonly key = 'k') {}

  write(value: string, invokedAt: number, completedAt?: number, outcome: Outcome = 'ok', extra: Partial<HistoryOperation> = {}): HistoryOperation {
    return this.add({ kind: 'write', value, invokedAt, completedAt, outcome, ...extra });
  }

  read(result: string | null, invokedAt: number, completedAt: number, extra: Partial<HistoryOperation> = {}): HistoryOperation {
    return this.add({ kind: 'read', result, invokedAt, completedAt, outcome: 'ok', ...extra });
  }

  cas(
    expected: string | null,
    value: string,
    invokedAt: number,
    completedAt?: number,
    outcome: Outcome = 'ok',
    extra: Partial<HistoryOperation> = {},
  ): HistoryOperation {
    return this.add({ kind: 'cas', expected, value, invokedAt, completedAt, outcome, ...extra });
  }

  /** A delete with `If-Match` the version of `expected`. */
  delete(expected: string, invokedAt: number, completedAt?: number, outcome: Outcome = 'ok', extra: Partial<HistoryOperation> = {}): HistoryOperation {
    return this.add({ kind: 'delete', expected, invokedAt, completedAt, outcome, ...extra });
  }

  history(startedAt = 0, endedAt?: number): History {
    const lastTime = Math.max(0, ...this.operations.map((op) => op.completedAt ?? op.invokedAt));
    return { operations: this.operations, faults: this.faults, startedAt, endedAt: endedAt ?? lastTime };
  }

  private add(fields: Omit<HistoryOperation, 'id' | 'client' | 'key'> & Partial<HistoryOperation>): HistoryOperation {
    const id = this.nextId++;
    const op: HistoryOperation = { id, client: id, key: this.key, ...fields };
    if (op.completedAt === undefined) delete op.completedAt;
    this.operations.push(op);
    return op;
  }
}
