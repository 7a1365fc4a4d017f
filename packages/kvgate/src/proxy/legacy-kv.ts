import { type Answer, type KvWireRequest } from '@kvstore/cluster';
import { HEADER_REPLICA, HEADER_REQUEST_ID, HEADER_ROUTING_VERSION, JSON_CONTENT_TYPE, OCTET_STREAM, errorFromAnswer, kvPath } from '@kvstore/protocol';
import { type KvFrameAnswer, type KvFrameRequest } from '@kvstore/wire';

/**
 * A request and its answer in the `kv` frame's url-and-headers form, for a
 * replica that predates the typed kv frame (it does not list it in its
 * upgrade answer). Goes with that frame, one release from now.
 */

/** The request as a url and headers: what a replica that predates the typed frame parses. */
export function legacyKvRequest(request: KvFrameRequest): KvWireRequest {
  const query: string[] = [];
  if (request.ttl !== undefined) query.push(`ttl=${request.ttl}`);
  if (request.consistency === 'eventual') query.push('consistency=eventual');
  const headers: Record<string, string> = { [HEADER_REQUEST_ID]: request.requestId };
  if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch === '*' ? '*' : `"${request.ifMatch}"`;
  if (request.ifNoneMatch) headers['if-none-match'] = '*';
  if (request.method === 'PUT') headers['content-type'] = OCTET_STREAM;
  return { method: request.method, path: kvPath(request.key, query.join('&')), headers, body: request.body, routingVersion: request.routingVersion };
}

/** An HTTP-shaped answer (a replica that predates the typed frame, or a test's) in the typed answer's fields; `from` names the replica in errors. */
export function answerFromHttp(answer: Answer, from: string): KvFrameAnswer {
  const replica = answer.headers[HEADER_REPLICA];
  if (answer.status >= 200 && answer.status < 300) {
    const etag = /^"(\d{1,15})"$/.exec(answer.headers.etag ?? '');
    const contentType = answer.headers['content-type'] === OCTET_STREAM ? OCTET_STREAM : JSON_CONTENT_TYPE;
    return { ok: true, replica, version: etag ? Number(etag[1]) : undefined, contentType, body: answer.body };
  }
  const version = answer.headers[HEADER_ROUTING_VERSION];
  const routingVersion = version !== undefined && /^\d{1,15}$/.test(version) ? Number(version) : undefined;
  return { ok: false, replica, error: errorFromAnswer(answer.status, answer.body, from), routingVersion };
}
