import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@kvstore/protocol';
import { sampleKvFrameRequest } from '../src/testing';
import { frameKindsHeader, parseFrameKinds } from '../src/frames';
import { KvFrameError, decodeKvFrameAnswer, decodeKvFrameRequest, encodeKvFrameAnswer, encodeKvFrameRequest, type KvFrameAnswer, type KvFrameRequest } from '../src/kv-frame';

const GET: KvFrameRequest = sampleKvFrameRequest({ requestId: 'Zx9_abcd-1z' });

function encoded(request: KvFrameRequest): Buffer {
  return Buffer.concat(encodeKvFrameRequest(request));
}

/** The GET frame with one byte changed. */
function withByte(request: KvFrameRequest, offset: number, value: number): Buffer {
  const frame = encoded(request);
  frame[offset] = value;
  return frame;
}

function refused(payload: Buffer, message: RegExp): void {
  assert.throws(() => decodeKvFrameRequest(payload), (error: unknown) => error instanceof KvFrameError && message.test(error.message));
}

describe('typed kv frame: requests', () => {
  it('round-trip every field, with the value as a view of the payload (not a copy)', () => {
    const cases: KvFrameRequest[] = [
      GET,
      { ...GET, consistency: 'eventual', routingVersion: 0 },
      { ...GET, key: 'café/ü 𝄞', routingVersion: Number.MAX_SAFE_INTEGER },
      { ...GET, method: 'PUT', ttl: 1, ifMatch: 0, ifNoneMatch: false, body: Buffer.from([0, 255, 10, 13]) },
      { ...GET, method: 'PUT', ttl: 315_360_000, ifMatch: '*', routingVersion: 7, body: Buffer.from('v') },
      { ...GET, method: 'PUT', ifNoneMatch: true, body: Buffer.alloc(0) },
      { ...GET, method: 'DELETE', ifMatch: 12_345, routingVersion: 3 },
      { ...GET, method: 'DELETE', ifMatch: '*' },
      { ...GET, key: 'x'.repeat(1024), requestId: '!'.repeat(128) },
    ];
    for (const request of cases) {
      const payload = encoded(request);
      const decoded = decodeKvFrameRequest(payload);
      assert.deepEqual(decoded, request);
      assert.equal(decoded.body.buffer, payload.buffer, 'the value is not copied');
    }
  });

  it('refuse a payload cut anywhere in its head', () => {
    const request: KvFrameRequest = { ...GET, method: 'DELETE', ifMatch: 3, routingVersion: 9 };
    const payload = encoded(request);
    for (let length = 0; length < payload.length; length++) refused(payload.subarray(0, length), /truncated/);
  });

  it('refuse an unknown method, unknown flags, flags the method does not take, and two if-match values', () => {
    refused(withByte(GET, 0, 3), /unknown method/);
    refused(withByte(GET, 1, 64), /unknown flags/);
    // GET: no ttl, no preconditions. DELETE: no ttl, no eventual, no if-none-match. PUT: no eventual.
    for (const flags of [2, 8, 16, 32]) refused(withByte(GET, 1, flags), /does not take/);
    for (const flags of [1, 2, 32]) refused(withByte({ ...GET, method: 'DELETE' }, 1, flags), /does not take/);
    refused(withByte({ ...GET, method: 'PUT' }, 1, 1), /does not take/);
    refused(withByte({ ...GET, method: 'PUT', ifMatch: 3 }, 1, 8 | 16), /two if-match values/);
  });

  it('refuse a key that is empty, too long or not UTF-8, and a malformed request id', () => {
    refused(encoded({ ...GET, key: '' }), /key must not be empty/);
    refused(encoded({ ...GET, key: 'x'.repeat(1025) }), /limit is 1024/);
    // 'k' is at offset 4; 0xff is never UTF-8, and an overlong or cut sequence is not either.
    refused(withByte(GET, 4, 0xff), /not UTF-8/);
    for (const bad of [[0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
      const key = Buffer.from(bad);
      const frame = Buffer.concat([Buffer.from([0, 0, 0, key.length]), key, Buffer.from([1, 0x61])]);
      refused(frame, /not UTF-8/);
    }
    for (const requestId of ['', 'two words', 'tab\there', 'caf\u00e9']) refused(encoded({ ...GET, requestId }), /malformed request id/);
  });

  it('refuse a ttl out of range, versions that are not integers >= 0, and a value on a GET or DELETE', () => {
    const put: KvFrameRequest = { ...GET, method: 'PUT', ttl: 5, body: Buffer.from('v') };
    for (const ttl of [0, 315_360_001]) {
      const frame = encoded(put);
      frame.writeUInt32BE(ttl, 4 + 1 + 1 + GET.requestId.length);
      refused(frame, /ttl must be/);
    }
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      const routed = encoded({ ...GET, routingVersion: 1 });
      routed.writeDoubleBE(bad, routed.length - 8);
      refused(routed, /malformed routing version/);
      const conditional = encoded({ ...GET, method: 'DELETE', ifMatch: 1 });
      conditional.writeDoubleBE(bad, conditional.length - 8);
      refused(conditional, /malformed if-match version/);
      assert.throws(() => encodeKvFrameRequest({ ...GET, routingVersion: bad }), /not an integer >= 0/);
    }
    refused(Buffer.concat([encoded(GET), Buffer.from('v')]), /a value for a GET/);
    refused(Buffer.concat([encoded({ ...GET, method: 'DELETE' }), Buffer.from('v')]), /a value for a DELETE/);
  });
});

describe('typed kv frame: answers', () => {
  it('round-trip a success and a refusal with its code, message, leader hint and routing version', () => {
    const cases: KvFrameAnswer[] = [
      { ok: true, replica: 'r1', version: 42, contentType: 'application/octet-stream', body: Buffer.from([0, 1, 2]) },
      { ok: true, replica: undefined, version: undefined, contentType: 'application/json; charset=utf-8', body: Buffer.from('{"key":"k"}') },
      { ok: false, replica: 'r1', error: new KvError('NOT_LEADER', 'not the leader; the leader is http://b:1', { leader: 'http://b:1' }), routingVersion: undefined },
      { ok: false, replica: 'r2', error: new KvError('WRONG_PARTITION', 'slot 7 is not served here — ü'), routingVersion: 12 },
      { ok: false, replica: undefined, error: new KvError('INTERNAL', ''), routingVersion: undefined },
    ];
    for (const answer of cases) assert.deepEqual(decodeKvFrameAnswer(Buffer.concat(encodeKvFrameAnswer(answer))), answer);
  });

  it('refuse an unknown error code, flags a success or refusal does not take, trailing bytes after a refusal, and a cut payload', () => {
    const refusal = Buffer.concat(encodeKvFrameAnswer({ ok: false, replica: 'r', error: new KvError('NOT_FOUND', 'gone'), routingVersion: undefined }));
    const unknownCode = Buffer.from(refusal);
    unknownCode.write('NOT_FUND!', 1, 'latin1');
    const wrongFlags = Buffer.from(refusal);
    wrongFlags[1 + 'NOT_FOUND'.length] = 8;
    const success = Buffer.concat(encodeKvFrameAnswer({ ok: true, replica: 'r', version: undefined, contentType: 'application/octet-stream', body: Buffer.alloc(0) }));
    const successFlags = Buffer.from(success);
    successFlags[1] = 2;
    for (const [payload, message] of [
      [unknownCode, /unknown error code/],
      [wrongFlags, /a refusal does not take/],
      [successFlags, /a success does not take/],
      [Buffer.concat([refusal, Buffer.from('x')]), /trailing bytes/],
      [refusal.subarray(0, refusal.length - 1), /truncated/],
    ] as const) {
      assert.throws(() => decodeKvFrameAnswer(payload), (error: unknown) => error instanceof KvFrameError && message.test(error.message), String(message));
    }
  });
});

describe('frame kinds in the upgrade answer', () => {
  it('are listed by the server and read by the client; an answer without them lists none', () => {
    const head = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n${frameKindsHeader([1, 2, 5])}`;
    assert.deepEqual([...parseFrameKinds(head)], [1, 2, 5]);
    assert.deepEqual([...parseFrameKinds('HTTP/1.1 101 Switching Protocols\r\nX-KV-Frame-Kinds:  4 , x, 300, 1')], [4, 1]);
    assert.deepEqual([...parseFrameKinds('HTTP/1.1 101 Switching Protocols\r\nUpgrade: kvstore-mux/1')], []);
  });
});
