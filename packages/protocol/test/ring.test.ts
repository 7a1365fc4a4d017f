import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ring } from '../src/ring';

const keys = Array.from({ length: 20_000 }, (_, index) => `key-${index}`);

test('every ring built from the same record places every key the same way, whatever the order', () => {
  const a = new Ring({ version: 3, partitions: ['p0', 'p1', 'p2'] });
  const b = new Ring({ version: 3, partitions: ['p2', 'p0', 'p1', 'p0'] });
  for (const key of keys) assert.equal(a.ownerOf(key), b.ownerOf(key));
});

test('keys spread over all partitions roughly evenly', () => {
  const ring = new Ring({ version: 1, partitions: ['p0', 'p1', 'p2', 'p3'] });
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(ring.ownerOf(key)!, (counts.get(ring.ownerOf(key)!) ?? 0) + 1);
  assert.equal(counts.size, 4);
  for (const count of counts.values()) assert.ok(count > keys.length / 4 / 2 && count < (keys.length / 4) * 2, `uneven: ${[...counts]}`);
});

test('adding a partition moves about 1/N of the keys, and only onto the new partition', () => {
  const before = new Ring({ version: 1, partitions: ['p0', 'p1', 'p2'] });
  const after = new Ring({ version: 2, partitions: ['p0', 'p1', 'p2', 'p3'] });
  let moved = 0;
  for (const key of keys) {
    if (before.ownerOf(key) === after.ownerOf(key)) continue;
    moved++;
    assert.equal(after.ownerOf(key), 'p3', `${key} moved between old partitions`);
  }
  const share = moved / keys.length;
  assert.ok(share > 0.15 && share < 0.35, `moved ${(share * 100).toFixed(1)}% of keys, expected about 25%`);
});

test('an empty ring owns nothing', () => {
  assert.equal(new Ring({ version: 0, partitions: [] }).ownerOf('k'), undefined);
});
