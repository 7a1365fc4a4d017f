/**
 * A chaos run's history: every client operation with when it was invoked,
 * when it completed, and what came of it. The checker reads only this.
 *
 * Values are unique per write (the workload makes them so), so a register's
 * version and value name each other, and a compare-and-set by version
 * (`If-Match`) is a compare-and-set by value here; a delete with `If-Match`
 * is a compare-and-set to absent.
 */
export type Outcome =
  /** Acknowledged (2xx; for reads, 200 or 404). */
  | 'ok'
  /** Definitely not applied: 503, 412, 400, or refused before it was sent. */
  | 'fail'
  /**
   * May or may not have been applied, at any time after invocation: 504,
   * timeout, connection lost. With a completedAt (a write acknowledged in
   * async mode, which a failover may lose): if it took effect, it did by then.
   */
  | 'unknown';

export type OperationKind = 'read' | 'write' | 'cas' | 'delete';

export interface HistoryOperation {
  /** Unique within the history. */
  id: number;
  /** The client (a sequential process) that issued it. */
  client: number;
  key: string;
  partition?: string;
  kind: OperationKind;
  /** write / cas: the value written (a delete writes none: it leaves the key absent). */
  value?: string;
  /** cas / delete: the value it expects to replace (null: the key must be absent, `If-None-Match: *`). */
  expected?: string | null;
  /** write / cas with `?ttl=`: the value expires this many seconds after the leader took the write. */
  ttlSeconds?: number;
  /** read: what it returned (null: not found). Set only when outcome is 'ok'. */
  result?: string | null;
  /** Milliseconds (any common origin). */
  invokedAt: number;
  /** Undefined while unknown: the operation may take effect at any later time (see Outcome). */
  completedAt?: number;
  outcome: Outcome;
  /** For the report: HTTP status or error code. */
  detail?: string;
}

/** A fault the nemesis injected, for the report and the availability figures. */
export interface FaultEvent {
  kind: string;
  target: string;
  startedAt: number;
  /** When it was healed (undefined: lasted to the end of the run). */
  endedAt?: number;
  /** Partition affected, if one. */
  partition?: string;
  /** What came of it, when that is more than "done" (a forge: how many forged requests were refused). */
  detail?: string;
}

export interface History {
  operations: HistoryOperation[];
  faults: FaultEvent[];
  startedAt: number;
  endedAt: number;
}
