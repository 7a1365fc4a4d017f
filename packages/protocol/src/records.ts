/**
 * The JSON records stored in ZooKeeper. Every read goes through a parser
 * that checks the shape, so a hand-edited or foreign node is reported, not
 * half-trusted.
 */

import { SLOT_COUNT } from './slots';

export interface RingRecord {
  version: number;
  /** Every partition that owns slots, or is gaining or losing them (sorted). */
  partitions: string[];
  /**
   * The slot table: the owner of each of the SLOT_COUNT slots, as an index
   * into `partitions`. Absent: the placement of `partitions` (placeSlots),
   * for a ring that no slot has moved on yet.
   */
  owners?: number[];
  /** For a slot that moved: the sequence number in its owner's log from which the owner holds its data. */
  since?: Record<string, number>;
  /** Set before the first write is accepted: from then on partitions join only by moving slots with their data. */
  sealed?: boolean;
}

export type MigrationKind = 'add' | 'remove' | 'rebalance';
export type MigrationState = 'running' | 'aborting' | 'done' | 'aborted';

/** `/migration`: the one migration of slots that runs (or last ran) in the cluster (docs/resharding.md). */
export interface MigrationRecord {
  id: string;
  kind: MigrationKind;
  /** The partition added or removed; null for a rebalance. */
  partition: string | null;
  state: MigrationState;
  startedAt: number;
  finishedAt?: number;
  /** Partition names that `target` and `original` index. */
  names: string[];
  /** Where each slot is going. An abort sets it back to `original`. */
  target: number[];
  /** Where each slot was when the migration started. */
  original: number[];
}

/** A migration that still moves slots (it runs, or is being rolled back). */
export function isMigrationActive(state: MigrationState | undefined): boolean {
  return state === 'running' || state === 'aborting';
}

/** `/migration-progress/<partition>`: what a source partition's leader has moved so far. */
export interface ProgressRecord {
  migration: string;
  slotsMoved: number;
  keysMoved: number;
  bytesMoved: number;
  /** The longest time, in ms, a slot batch refused writes (from its fence to the new owner in `/ring`). */
  pauseMsMax: number;
  pauseMsTotal: number;
  pauses: number;
  updatedAt: number;
  /** Why it cannot go on (a destination without a leader, say); absent while it can. */
  blocked?: string;
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
  /**
   * Replicas taken out of the in-sync set for maintenance (`kvctl cluster
   * remove-member`): never added back nor elected until restored. Sorted;
   * absent when empty.
   */
  excluded?: string[];
  /**
   * A planned handover (`kvctl cluster leader-transfer`): the old leader
   * stepped aside for this replica, and while it is live and may lead, no
   * other replica campaigns. The winner's campaign clears it.
   */
  transferTo?: string;
}

/**
 * `/state` with `id` no longer excluded (`kvctl cluster restore-member`): the
 * leader adds it back once it has caught up. Undefined when it was not
 * excluded. Safe to write at any time (by compare-and-set): it makes no
 * replica electable that is not in the in-sync set.
 */
export function restoreMember(state: StateRecord, id: string): StateRecord | undefined {
  if (!state.excluded?.includes(id)) return undefined;
  const { excluded, ...rest } = state;
  const left = excluded.filter((other) => other !== id);
  return left.length > 0 ? { ...rest, excluded: left } : rest;
}

export interface LeaderRecord {
  id: string;
  url: string;
  epoch: number;
}

export interface GateRecord {
  url: string;
}

export const USER_ROLES = ['read', 'readwrite', 'admin'] as const;
/** read: GET; readwrite: GET, PUT, DELETE; admin: everything, the admin routes included. */
export type UserRole = (typeof USER_ROLES)[number];

export interface UserGrant {
  role: UserRole;
  /** The keys the grant covers: those starting with one of these; absent: every key. Never on an admin grant. */
  prefixes?: string[];
}

/** A token is `<id>.<secret>`; only the scrypt hash of the secret is kept, so a read of ZooKeeper yields no token. */
export interface UserToken {
  id: string;
  /** base64url. */
  salt: string;
  /** scrypt(secret, salt), base64url. */
  hash: string;
  createdAt: number;
  /** When the token stops working, ms since the epoch; absent: never. */
  expiresAt?: number;
}

/** `/users/<name>`: a user of the gates, with at most one grant per role. */
export interface UserRecord {
  grants: UserGrant[];
  tokens: UserToken[];
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

function ints(what: string, fields: Fields, name: string, length: number, below: number): number[] {
  const value = fields[name];
  if (!Array.isArray(value) || value.length !== length || !value.every((item) => Number.isSafeInteger(item) && item >= 0 && item < below)) {
    throw new RecordError(what, `${name} must be ${length} integers in [0, ${below})`);
  }
  return value as number[];
}

function intMap(what: string, fields: Fields, name: string): Record<string, number> {
  const value = fields[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((item) => Number.isSafeInteger(item) && item >= 0)) {
    throw new RecordError(what, `${name} must be an object of integers ≥ 0`);
  }
  return { ...(value as Record<string, number>) };
}

function oneOf<T extends string>(what: string, fields: Fields, name: string, values: readonly T[]): T {
  const value = fields[name];
  if (!values.includes(value as T)) throw new RecordError(what, `${name} must be one of ${values.join(', ')}`);
  return value as T;
}

export function parseRing(data: Buffer | string): RingRecord {
  const fields = parseObject('ring', data);
  const version = int('ring', fields, 'version');
  const partitions = strings('ring', fields, 'partitions');
  const record: RingRecord = { version, partitions };
  if (fields.owners !== undefined) record.owners = ints('ring', fields, 'owners', SLOT_COUNT, partitions.length);
  if (fields.since !== undefined) record.since = intMap('ring', fields, 'since');
  if (fields.sealed !== undefined) {
    if (typeof fields.sealed !== 'boolean') throw new RecordError('ring', 'sealed must be a boolean');
    record.sealed = fields.sealed;
  }
  return record;
}

export function parseMigration(data: Buffer | string): MigrationRecord {
  const what = 'migration';
  const fields = parseObject(what, data);
  const names = strings(what, fields, 'names');
  const record: MigrationRecord = {
    id: str(what, fields, 'id'),
    kind: oneOf(what, fields, 'kind', ['add', 'remove', 'rebalance'] as const),
    partition: fields.partition === null ? null : str(what, fields, 'partition'),
    state: oneOf(what, fields, 'state', ['running', 'aborting', 'done', 'aborted'] as const),
    startedAt: int(what, fields, 'startedAt'),
    names,
    target: ints(what, fields, 'target', SLOT_COUNT, names.length),
    original: ints(what, fields, 'original', SLOT_COUNT, names.length),
  };
  if (fields.finishedAt !== undefined) record.finishedAt = int(what, fields, 'finishedAt');
  return record;
}

export function parseProgress(data: Buffer | string): ProgressRecord {
  const what = 'progress';
  const fields = parseObject(what, data);
  const record: ProgressRecord = {
    migration: str(what, fields, 'migration'),
    slotsMoved: int(what, fields, 'slotsMoved'),
    keysMoved: int(what, fields, 'keysMoved'),
    bytesMoved: int(what, fields, 'bytesMoved'),
    pauseMsMax: int(what, fields, 'pauseMsMax'),
    pauseMsTotal: int(what, fields, 'pauseMsTotal'),
    pauses: int(what, fields, 'pauses'),
    updatedAt: int(what, fields, 'updatedAt'),
  };
  if (fields.blocked !== undefined) record.blocked = str(what, fields, 'blocked');
  return record;
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
  if (fields.excluded !== undefined) record.excluded = strings('state', fields, 'excluded');
  if (fields.transferTo !== undefined) record.transferTo = str('state', fields, 'transferTo');
  return record;
}

export function parseLeader(data: Buffer | string): LeaderRecord {
  const fields = parseObject('leader', data);
  return { id: str('leader', fields, 'id'), url: str('leader', fields, 'url'), epoch: int('leader', fields, 'epoch') };
}

export function parseUser(data: Buffer | string): UserRecord {
  const what = 'user';
  const fields = parseObject(what, data);
  const list = (name: string): Fields[] => {
    const value = fields[name];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) {
      throw new RecordError(what, `${name} must be an array of objects`);
    }
    return value as Fields[];
  };
  const grants = list('grants').map((grant): UserGrant => {
    const role = oneOf(what, grant, 'role', USER_ROLES);
    if (grant.prefixes === undefined) return { role };
    if (role === 'admin') throw new RecordError(what, 'an admin grant covers every key: it has no prefixes');
    return { role, prefixes: strings(what, grant, 'prefixes') };
  });
  if (new Set(grants.map((grant) => grant.role)).size !== grants.length) throw new RecordError(what, 'at most one grant per role');
  const tokens = list('tokens').map((token): UserToken => {
    const parsed: UserToken = { id: str(what, token, 'id'), salt: str(what, token, 'salt'), hash: str(what, token, 'hash'), createdAt: int(what, token, 'createdAt') };
    return token.expiresAt === undefined ? parsed : { ...parsed, expiresAt: int(what, token, 'expiresAt') };
  });
  return { grants, tokens };
}

export function encodeRecord(
  record: RingRecord | MemberRecord | StateRecord | LeaderRecord | GateRecord | MigrationRecord | ProgressRecord | UserRecord,
): Buffer {
  return Buffer.from(JSON.stringify(record));
}
