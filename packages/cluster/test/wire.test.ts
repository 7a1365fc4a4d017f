import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameLengthError, FrameReader, frameHeader, type Frame } from '../src/wire/frames';
import { decodeKvAnswer, decodeKvRequest, encodeKvAnswer, encodeKvRequest } from '../src/wire/kv-codec';

function frame(id: number, kind: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  return Buffer.concat([frameHeader(id, kind, body.length), body]);
}

const LIMIT = 64 * 1024;

function readAll(chunks: Buffer[], maxFrameBytes = LIMIT): Frame[] {
  const frames: Frame[] = [];
  const reader = new FrameReader((read) => frames.push(read), maxFrameBytes);
  for (const chunk of chunks) reader.push(chunk);
  return frames;
}

describe('FrameReader', () => {
  const stream = Buffer.concat([frame(1, 1, 'first'), frame(2, 128, ''), frame(0xffffffff, 2, 'x'.repeat(1000))]);
  const expected = [
    { id: 1, kind: 1, payload: 'first' },
    { id: 2, kind: 128, payload: '' },
    { id: 0xffffffff, kind: 2, payload: 'x'.repeat(1000) },
  ];
  const simple = (frames: Frame[]) => frames.map(({ id, kind, payload }) => ({ id, kind, payload: payload.toString() }));

  it('reads several frames from one chunk', () => {
    assert.deepEqual(simple(readAll([stream])), expected);
  });

  it('reads frames cut at every possible byte, even a length field split in two', () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      assert.deepEqual(simple(readAll([stream.subarray(0, cut), stream.subarray(cut)])), expected, `cut at ${cut}`);
    }
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    assert.deepEqual(simple(readAll(bytes)), expected);
  });

  it('refuses a length beyond its bound as soon as the length is read, or one too short to hold a header', () => {
    assert.equal(readAll([frame(1, 1, 'x'.repeat(95))], 100).length, 1, 'a frame of exactly the bound passes');
    assert.throws(() => readAll([frame(1, 1, 'x'.repeat(96))], 100), FrameLengthError);
    assert.throws(() => readAll([frameHeader(1, 1, 1 << 30)]), /frame length 1073741829 is out of bounds/);
    assert.throws(() => readAll([Buffer.from([0, 0, 0, 2, 0, 0])]), FrameLengthError);
  });

  it('holds frames while paused and hands them out in order when resumed, even when resumed from a frame', () => {
    const frames: string[] = [];
    const reader = new FrameReader((read) => {
      frames.push(read.payload.toString());
      if (frames.length === 1) reader.pause();
      if (frames.length === 2) {
        reader.pause();
        reader.resume();
      }
    }, LIMIT);
    reader.push(Buffer.concat([frame(1, 1, 'a'), frame(2, 1, 'b'), frame(3, 1, 'c')]));
    assert.deepEqual(frames, ['a']);
    reader.push(frame(4, 1, 'd'));
    assert.deepEqual(frames, ['a']);
    reader.resume();
    assert.deepEqual(frames, ['a', 'b', 'c', 'd']);
  });
});

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
