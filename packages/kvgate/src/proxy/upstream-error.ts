import { errorFromBody, KvError, type ErrorCode } from '@kvstore/topology';

const BY_STATUS: ReadonlyMap<number, ErrorCode> = new Map([
  [400, 'BAD_REQUEST'],
  [404, 'NOT_FOUND'],
  [412, 'PRECONDITION_FAILED'],
  [413, 'PAYLOAD_TOO_LARGE'],
  [503, 'UNAVAILABLE'],
  [504, 'TIMEOUT'],
]);

/**
 * Converts a replica's error answer into a KvError, once, here. A body that
 * is not the agreed JSON (a proxy's HTML page, a crash) still gets a code
 * from its status, so nothing upstream can make the gate answer non-JSON.
 */
export function upstreamError(status: number, body: Buffer, replica: string): KvError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const error = errorFromBody(parsed);
  if (error) return error;
  const code = BY_STATUS.get(status) ?? 'INTERNAL';
  return new KvError(code, `replica ${replica} answered ${status}`);
}
