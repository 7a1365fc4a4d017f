import { errorAnswer, type Answer } from '@kvstore/cluster';
import { HEADER_PARTITION, HEADER_REPLICA, HEADER_REQUEST_ID } from '@kvstore/protocol';
import type { ForwardResult } from '../proxy/forwarder';

/** Replica headers a client may rely on; hop-by-hop and length headers are the gate's own business. */
const PASSED_HEADERS = ['content-type', 'etag'] as const;

/** The client's answer to a forwarded request, with its id and who served it (or failed to) in either case. */
export function forwardedAnswer(result: ForwardResult, requestId: string): Answer {
  const headers: Record<string, string> = { [HEADER_REQUEST_ID]: requestId };
  if (result.partition !== undefined) headers[HEADER_PARTITION] = result.partition;
  if (result.replica !== undefined) headers[HEADER_REPLICA] = result.replica;
  if (!result.ok) return errorAnswer(result.error, headers);
  for (const name of PASSED_HEADERS) {
    const value = result.response.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return { status: result.response.status, headers, body: result.response.body };
}
