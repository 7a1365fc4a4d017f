import { HEADER_PARTITION, HEADER_REPLICA, KvError, OCTET_STREAM, badRequest, checkTtl, kvPath, validateKey, type KvRequest } from '@kvstore/protocol';
import type { ClientRequest, GateAnswer } from './gate-link';

/**
 * A key's request is built once, as the fields the protocol parses
 * (`KvRequest`): a replica gets them as a typed kv frame, a gate as the url
 * and headers made from them here. What the API would refuse is refused
 * before anything is sent.
 */
export function keyRequest(fields: KvRequest): KvRequest {
  validateKey(fields.key);
  if (fields.ttl !== undefined) checkTtl(fields.ttl);
  if (typeof fields.ifMatch === 'number' && !(Number.isSafeInteger(fields.ifMatch) && fields.ifMatch >= 0)) throw badRequest('ifMatch must be a version: an integer >= 0');
  if (fields.consistency !== 'strong' && fields.consistency !== 'eventual') throw badRequest('consistency must be "strong" or "eventual"');
  return fields;
}

/** The request as a gate takes it: `/v1/kv/<key>` with its query and headers. */
export function gateRequest(fields: KvRequest, body: Buffer): ClientRequest {
  const query = new URLSearchParams();
  if (fields.ttl !== undefined) query.set('ttl', String(fields.ttl));
  if (fields.consistency === 'eventual') query.set('consistency', 'eventual');
  const headers: Record<string, string> = {};
  if (fields.method === 'PUT') headers['content-type'] = OCTET_STREAM;
  if (fields.ifMatch !== undefined) headers['if-match'] = fields.ifMatch === '*' ? '*' : `"${fields.ifMatch}"`;
  if (fields.ifNoneMatch) headers['if-none-match'] = '*';
  const request: ClientRequest = { method: fields.method, path: kvPath(fields.key, query.toString()), headers, write: fields.method !== 'GET' };
  if (fields.method === 'PUT') request.body = body;
  return request;
}

/** What a key's answer says, whichever way it came (a gate's HTTP answer, a replica's kv frame). */
export interface KeyAnswer {
  host: string;
  body: Buffer;
  /** A GET's version, and a PUT's (its JSON body has it too); none for a DELETE. */
  version: number | undefined;
  partition: string | null;
  replica: string | null;
}

export function keyAnswerOf(answer: GateAnswer<Buffer>): KeyAnswer {
  const etag = /^(?:W\/)?"?(\d+)"?$/.exec(headerOf(answer, 'etag') ?? '');
  return {
    host: answer.host,
    body: answer.body,
    version: etag ? Number(etag[1]) : undefined,
    partition: headerOf(answer, HEADER_PARTITION),
    replica: headerOf(answer, HEADER_REPLICA),
  };
}

/** The version from the JSON body when it has one, else the answer's own. */
export function versionOf(answer: KeyAnswer, fromBody?: unknown): number {
  if (typeof fromBody === 'number') return fromBody;
  if (answer.version === undefined) throw new KvError('INTERNAL', `${answer.host} answered without a version`);
  return answer.version;
}

export function headerOf(answer: GateAnswer<unknown>, name: string): string | null {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : null;
}
