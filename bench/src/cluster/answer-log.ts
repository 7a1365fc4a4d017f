import { Latencies, type RequestShape } from './load';
import type { Row } from './measure';

/** Status codes the contract allows under the resharding load: 404 (a GET after a DELETE) and 412 (a failed compare-and-set). */
const isExpected = (status: number): boolean => (status >= 200 && status < 300) || status === 404 || status === 412;

/** The `code` of an error answer's JSON body, or what the body starts with. */
export function errorCode(body: string): string {
  try {
    return String((JSON.parse(body) as { error: { code: unknown } }).error.code);
  } catch {
    return JSON.stringify(body.slice(0, 60));
  }
}

/**
 * Marks the kind of an error that is a bounded wait running out: a request
 * to a slot being cut over waits in the gate for the slot's new owner, up
 * to its --write-timeout plus a cut-over allowance, then gets 503 with the
 * fence's message.
 */
const CUTOVER_WAIT = ' (cut-over wait)';

function errorKind(request: RequestShape, status: number, body: string): string {
  const wait = status === 503 && body.includes('is moving to another partition') ? CUTOVER_WAIT : '';
  return `${request.method} ${status} ${errorCode(body)}${wait}`;
}

/** What the clients saw in a window of time: a row of the report, with the writes' latency and the errors by kind. */
export type WindowRow = Row & Required<Pick<Row, 'requests' | 'reqPerSec' | 'latencyMs' | 'writeLatencyMs' | 'errors' | 'cutoverWaits' | 'statusCodes' | 'errorCodes'>>;

/**
 * Every answer of a load, with the wall-clock time it came (Date.now(), the
 * clock the servers stamp a migration's start and end with), so that it can
 * be cut into windows afterwards by those stamps.
 */
export class AnswerLog {
  private readonly at: number[] = [];
  /** Its latency in ms; NaN for a request without an answer. */
  private readonly ms: number[] = [];
  /** 0 for a request without an answer. */
  private readonly status: number[] = [];
  private readonly write: boolean[] = [];
  /** The kind of each error ("PUT 503 UNAVAILABLE", "no answer"), by index: they are few. */
  private readonly errorKinds = new Map<number, string>();

  answered(request: RequestShape, status: number, ms: number, body: string): void {
    if (!isExpected(status)) this.errorKinds.set(this.at.length, errorKind(request, status, body));
    this.push(ms, status, request.method !== 'GET');
  }

  /** A request that got no answer: a connection error or a timeout. */
  unanswered(): void {
    this.errorKinds.set(this.at.length, 'no answer');
    this.push(NaN, 0, false);
  }

  private push(ms: number, status: number, write: boolean): void {
    this.at.push(Date.now());
    this.ms.push(ms);
    this.status.push(status);
    this.write.push(write);
  }

  /** The answers that came from `from` up to `to` (Date.now() times), as a row named `name`. */
  window(name: string, from: number, to: number, connections: number): WindowRow {
    const all = new Latencies();
    const writes = new Latencies();
    const statusCodes: Record<string, number> = {};
    const errorCodes: Record<string, number> = {};
    let requests = 0;
    let unanswered = 0;
    for (let index = 0; index < this.at.length; index++) {
      const at = this.at[index]!;
      if (at < from || at >= to) continue;
      const kind = this.errorKinds.get(index);
      if (kind !== undefined) errorCodes[kind] = (errorCodes[kind] ?? 0) + 1;
      const status = this.status[index]!;
      if (status === 0) {
        unanswered++;
        continue;
      }
      requests++;
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      all.add(this.ms[index]!);
      if (this.write[index]) writes.add(this.ms[index]!);
    }
    const seconds = Math.max(to - from, 0) / 1000;
    return {
      name,
      group: 'reshard',
      connections,
      durationS: seconds,
      elapsedS: seconds,
      requests,
      reqPerSec: seconds > 0 ? requests / seconds : 0,
      latencyMs: all.summary(),
      writeLatencyMs: writes.summary(),
      errors: Object.values(errorCodes).reduce((sum, count) => sum + count, 0),
      cutoverWaits: Object.entries(errorCodes).reduce((sum, [kind, count]) => sum + (kind.endsWith(CUTOVER_WAIT) ? count : 0), 0),
      connectionErrors: unanswered,
      statusCodes,
      errorCodes,
    };
  }
}
