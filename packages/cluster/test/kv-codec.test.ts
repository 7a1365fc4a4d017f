import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeKvAnswer, decodeKvRequest, encodeKvAnswer, encodeKvRequest } from '../src/wire/kv-codec';

describe('kv frames', () => {
  it('carry a request: method, path, headers and the raw body', () => {
    const body = Buffer.from([0, 255, 10, 13]);
    const request = { method: 'PUT' as const, path: '/v1/kv/caf%C3%A9?ttl=5', headers: { 'if-match': '"3"', 'content-type': 'x/ü' }, body };
    assert.deepEqual(decodeKvRequest(Buffer.concat(encodeKvRequest(request))), request);
  });

  it('carry an answer: status, headers and body', () => {
    const answer = { status: 421, headers: { 'x-kv-replica': 'r1' }, body: Buffer.from('{"error":{}}') };
    assert.deepEqual(decodeKvAnswer(Buffer.concat(encodeKvAnswer(answer))), answer);
  });

  it('carry the routing version as one more header, which a replica that predates it ignores; a frame without it is unknown', () => {
    const request = { method: 'GET' as const, path: '/v1/kv/a', headers: { 'if-match': '"3"' }, body: Buffer.from('v'), routingVersion: 9_007_199_254_740_991 };
    const encoded = Buffer.concat(encodeKvRequest(request));
    assert.deepEqual(decodeKvRequest(encoded), request);
    // Read as before the field existed: the same frame, with one more header.
    const { routingVersion, ...older } = request;
    assert.deepEqual(encoded, Buffer.concat(encodeKvRequest({ ...older, headers: { ...older.headers, 'x-kv-routing-version': String(routingVersion) } })));
    const unknown = decodeKvRequest(Buffer.concat(encodeKvRequest(older)));
    assert.equal(unknown.routingVersion, undefined);
    assert.equal('routingVersion' in unknown, false);
  });

  it("carry the gate's request id as a header, next to the routing version", () => {
    const request = { method: 'DELETE' as const, path: '/v1/kv/a', headers: { 'x-request-id': 'Zx9_abcd-1z' }, body: Buffer.alloc(0), routingVersion: 3 };
    assert.deepEqual(decodeKvRequest(Buffer.concat(encodeKvRequest(request))), request);
  });

  it('refuse a malformed routing version, when encoding and decoding', () => {
    const request = { method: 'GET' as const, path: '/v1/kv/a', body: Buffer.alloc(0) };
    for (const bad of ['', '-1', '1.5', 'x', '9007199254740992', '12345678901234567']) {
      const frame = Buffer.concat(encodeKvRequest({ ...request, headers: { 'x-kv-routing-version': bad } }));
      assert.throws(() => decodeKvRequest(frame), /malformed routing version/, bad);
    }
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => encodeKvRequest({ ...request, headers: {}, routingVersion: bad }), /not an integer >= 0/, String(bad));
    }
  });

  it('refuse a truncated payload or an unknown method', () => {
    const encoded = Buffer.concat(encodeKvRequest({ method: 'GET', path: '/v1/kv/a', headers: { a: 'b' }, body: Buffer.alloc(0) }));
    assert.throws(() => decodeKvRequest(encoded.subarray(0, encoded.length - 1)), /truncated/);
    const unknown = Buffer.from(encoded);
    unknown[0] = 9;
    assert.throws(() => decodeKvRequest(unknown), /unknown method/);
  });
});
