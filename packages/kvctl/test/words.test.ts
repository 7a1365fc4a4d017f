import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitWords } from '../src/words';

test('words split on blanks, quotes group and join', () => {
  assert.deepEqual(splitWords('  put  key   value '), ['put', 'key', 'value']);
  assert.deepEqual(splitWords(`put "a b" 'c "d"' e"f g"h`), ['put', 'a b', 'c "d"', 'ef gh']);
  assert.deepEqual(splitWords(`put k "" ''`), ['put', 'k', '', '']);
  assert.deepEqual(splitWords(String.raw`a\ b "q\"x\\y\n" 'no\escape'`), ['a b', 'q"x\\y\\n', 'no\\escape']);
});

test('an unclosed quote is refused', () => {
  assert.throws(() => splitWords('put "k'), /unclosed " quote/);
  assert.throws(() => splitWords("put 'k"), /unclosed ' quote/);
});
