import { errorAnswer, type Answer } from '@kvstore/cluster';
import { HEADER_PARTITION, HEADER_REPLICA, HEADER_REQUEST_ID } from '@kvstore/protocol';
import type { ForwardResult } from '../proxy/forwarder';

/** The client's answer to a forwarded request, with its id and who served it (or failed to) in either case. */
export function forwardedAnswer(result: ForwardResult, requestId: string): Answer {
  const headers: Record<string, string> = { [HEADER_REQUEST_ID]: requestId };
  if (result.partition !== undefined) headers[HEADER_PARTITION] = result.partition;
  if (result.replica !== undefined) headers[HEADER_REPLICA] = result.replica;
  if (!result.ok) return errorAnswer(result.error, headers);
  const { contentType, version, body } = result.response;
  headers['content-type'] = contentType;
  if (version !== undefined) headers.etag = `"${version}"`;
  return { status: 200, headers, body };
}
