/**
 * A log entry: one write, numbered by the partition's sequence (which is
 * also the written key's version) and stamped with the leader's epoch.
 * `noop` is the entry a new leader appends when it takes over, so that the
 * tail it inherited is committed before it serves strong reads (as in Raft).
 */
export type Operation =
  | { type: 'put'; key: string; value: Buffer; expiresAt: number | null }
  | { type: 'delete'; key: string }
  | { type: 'noop' };

export interface LogEntry {
  seq: number;
  epoch: number;
  op: Operation;
}

/** The JSON shape of an entry on the internal replication API (values in base64). */
export interface WireEntry {
  seq: number;
  epoch: number;
  type: Operation['type'];
  key?: string;
  value?: string;
  expiresAt?: number | null;
}

export function toWire(entry: LogEntry): WireEntry {
  const { seq, epoch, op } = entry;
  switch (op.type) {
    case 'put':
      return { seq, epoch, type: 'put', key: op.key, value: op.value.toString('base64'), expiresAt: op.expiresAt };
    case 'delete':
      return { seq, epoch, type: 'delete', key: op.key };
    case 'noop':
      return { seq, epoch, type: 'noop' };
  }
}

export function fromWire(wire: WireEntry): LogEntry {
  const { seq, epoch } = wire;
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(epoch)) throw new Error('entry without seq or epoch');
  switch (wire.type) {
    case 'put':
      if (typeof wire.key !== 'string' || typeof wire.value !== 'string') throw new Error(`put entry ${seq} is malformed`);
      return {
        seq,
        epoch,
        op: { type: 'put', key: wire.key, value: Buffer.from(wire.value, 'base64'), expiresAt: wire.expiresAt ?? null },
      };
    case 'delete':
      if (typeof wire.key !== 'string') throw new Error(`delete entry ${seq} is malformed`);
      return { seq, epoch, op: { type: 'delete', key: wire.key } };
    case 'noop':
      return { seq, epoch, op: { type: 'noop' } };
    default:
      throw new Error(`entry ${seq} has unknown type`);
  }
}

export function entryBytes(entry: LogEntry): number {
  return entry.op.type === 'put' ? entry.op.value.length + entry.op.key.length + 64 : 64;
}
