import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameLengthError, FrameReader, frameHeader, type Frame } from '../src/frames';

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
