/**
 * The JSON records stored in ZooKeeper. Every read goes through a parser
 * that checks the shape, so a hand-edited or foreign node is reported, not
 * half-trusted.
 */

export interface RingRecord {
  version: number;
  partitions: string[];
}

export interface MemberRecord {
  id: string;
  url: string;
}

export interface StateRecord {
  epoch: number;
  leader: string | null;
  isr: string[];
  /**
   * The member node (incarnation) of each in-sync replica when it was added.
   * A replica whose registration differs has restarted since, and has not
   * proven that it still holds the data. Absent in records of older versions.
   */
  incarnations?: Record<string, string>;
}

export interface LeaderRecord {
  id: string;
  url: string;
  epoch: number;
}

export interface GateRecord {
  url: string;
}

export class RecordError extends Error {
  constructor(what: string, detail: string) {
    super(`malformed ${what} record: ${detail}`);
    this.name = 'RecordError';
  }
}

type Fields = Record<string, unknown>;

function parseObject(what: string, data: Buffer | string): Fields {
  let value: unknown;
  try {
    value = JSON.parse(data.toString());
  } catch {
    throw new RecordError(what, 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordError(what, 'not an object');
  return value as Fields;
}

function str(what: string, fields: Fields, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0) throw new RecordError(what, `${name} must be a non-empty string`);
  return value;
}

function int(what: string, fields: Fields, name: string): number {
  const value = fields[name];
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new RecordError(what, `${name} must be an integer ≥ 0`);
  return value as number;
}

function strings(what: string, fields: Fields, name: string): string[] {
  const value = fields[name];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new RecordError(what, `${name} must be an array of strings`);
  }
  return value as string[];
}

function stringMap(what: string, fields: Fields, name: string): Record<string, string> {
  const value = fields[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((item) => typeof item === 'string')) {
    throw new RecordError(what, `${name} must be an object of strings`);
  }
  return { ...(value as Record<string, string>) };
}

export function parseRing(data: Buffer | string): RingRecord {
  const fields = parseObject('ring', data);
  return { version: int('ring', fields, 'version'), partitions: strings('ring', fields, 'partitions') };
}

export function parseMember(data: Buffer | string): MemberRecord {
  const fields = parseObject('member', data);
  return { id: str('member', fields, 'id'), url: str('member', fields, 'url') };
}

export function parseState(data: Buffer | string): StateRecord {
  const fields = parseObject('state', data);
  const leader = fields.leader === null ? null : str('state', fields, 'leader');
  const record: StateRecord = { epoch: int('state', fields, 'epoch'), leader, isr: strings('state', fields, 'isr') };
  if (fields.incarnations !== undefined) record.incarnations = stringMap('state', fields, 'incarnations');
  return record;
}

export function parseLeader(data: Buffer | string): LeaderRecord {
  const fields = parseObject('leader', data);
  return { id: str('leader', fields, 'id'), url: str('leader', fields, 'url'), epoch: int('leader', fields, 'epoch') };
}

export function encodeRecord(record: RingRecord | MemberRecord | StateRecord | LeaderRecord | GateRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}
