import { HEADER_PARTITION, HEADER_REPLICA } from '@kvstore/topology';
import type { Response } from 'express';
import type { ForwardResult } from '../proxy/forwarder';

/** Replica headers a client may rely on; hop-by-hop and length headers are the gate's own business. */
const PASSED_HEADERS = ['content-type', 'etag'] as const;

/** Sends a forwarded answer, or throws its error to the error middleware, with who served it in either case. */
export function sendForwarded(res: Response, result: ForwardResult): void {
  if (result.partition !== undefined) res.setHeader(HEADER_PARTITION, result.partition);
  if (result.replica !== undefined) res.setHeader(HEADER_REPLICA, result.replica);
  if (!result.ok) throw result.error;
  for (const name of PASSED_HEADERS) {
    const value = result.response.headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
  res.status(result.response.status).send(result.response.body);
}
