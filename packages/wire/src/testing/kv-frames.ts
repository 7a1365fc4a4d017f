import type { KvFrameRequest } from '../kv-frame';

/** A typed kv frame's request for key `k`: a strong GET unless `fields` say otherwise. */
export function sampleKvFrameRequest(fields: Partial<KvFrameRequest> = {}): KvFrameRequest {
  return {
    method: 'GET',
    key: 'k',
    ttl: undefined,
    consistency: 'strong',
    ifMatch: undefined,
    ifNoneMatch: false,
    requestId: 'r-1',
    routingVersion: undefined,
    body: Buffer.alloc(0),
    ...fields,
  };
}
