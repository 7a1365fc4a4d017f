import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordError, encodeRecord, parseLeader, parseMember, parseRing, parseState } from '../src/records';

test('records round-trip through their encoding', () => {
  const state = { epoch: 3, leader: 'p0-r1', isr: ['p0-r1', 'p0-r2'] };
  assert.deepEqual(parseState(encodeRecord(state)), state);
  assert.deepEqual(parseState(encodeRecord({ epoch: 0, leader: null, isr: [] })), { epoch: 0, leader: null, isr: [] });
  const handingOver = { epoch: 3, leader: null, isr: ['p0-r1', 'p0-r2'], excluded: ['p0-r3'], transferTo: 'p0-r2' };
  assert.deepEqual(parseState(encodeRecord(handingOver)), handingOver);
  assert.deepEqual(parseRing(encodeRecord({ version: 2, partitions: ['a'] })), { version: 2, partitions: ['a'] });
  assert.deepEqual(parseMember(encodeRecord({ id: 'x', url: 'http://h:1' })), { id: 'x', url: 'http://h:1' });
  assert.deepEqual(parseLeader(encodeRecord({ id: 'x', url: 'http://h:1', epoch: 4 })), { id: 'x', url: 'http://h:1', epoch: 4 });
});

test('malformed records are reported, not half-trusted', () => {
  for (const bad of ['', 'nope', '[]', '{"epoch":-1,"leader":null,"isr":[]}', '{"epoch":1,"leader":5,"isr":[]}', '{"epoch":1,"leader":null,"isr":[1]}', '{"epoch":1,"leader":null,"isr":[],"excluded":"r1"}', '{"epoch":1,"leader":null,"isr":[],"transferTo":""}']) {
    assert.throws(() => parseState(Buffer.from(bad)), RecordError, bad);
  }
  assert.throws(() => parseRing('{"version":1.5,"partitions":[]}'), RecordError);
  assert.throws(() => parseMember('{"id":"","url":"u"}'), RecordError);
});
