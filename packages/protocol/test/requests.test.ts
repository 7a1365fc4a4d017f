import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvError } from '../src/errors';
import { kvPath, splitKvUrl } from '../src/kv-url';
import { validateKey } from '../src/keys';
import { decodeKey, parseConsistency, parseIfMatch, parseIfNoneMatch, parseSeedGetKey, parseSeedPut, parseTtl } from '../src/requests';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof KvError ? error.code : 'not a KvError';
  }
}

test('keys: percent-decoded, non-empty, at most 1024 bytes of UTF-8', () => {
  assert.equal(decodeKey('a%2Fb%20c'), 'a/b c');
  assert.equal(decodeKey('%D0%BA'), 'к');
  assert.equal(decodeKey('k'.repeat(1024)), 'k'.repeat(1024));
  assert.equal(decodeKey('%D0%BA'.repeat(512)).length, 512, '1024 bytes in two-byte characters');
  assert.equal(code(() => decodeKey('k'.repeat(1025))), 'BAD_REQUEST');
  assert.equal(code(() => decodeKey('')), 'BAD_REQUEST');
  assert.equal(code(() => decodeKey('%E0%A4%A')), 'BAD_REQUEST');
});

test('keys with a lone surrogate are refused everywhere, as a 400; a whole pair is fine', () => {
  for (const key of ['\ud800', 'a\udfff', '\udc00\ud800', 'x\ud83d']) {
    assert.equal(code(() => validateKey(key)), 'BAD_REQUEST', JSON.stringify(key));
    assert.equal(code(() => parseSeedGetKey(key)), 'BAD_REQUEST', JSON.stringify(key));
    assert.equal(code(() => parseSeedPut(Buffer.from(JSON.stringify({ key, value: '' })), 10)), 'BAD_REQUEST', JSON.stringify(key));
  }
  assert.equal(code(() => parseSeedPut(Buffer.from('{"key":"\\ud800","value":""}'), 10)), 'BAD_REQUEST', 'a JSON escape');
  // decodeURIComponent never yields a lone surrogate: an encoded one is malformed UTF-8, and a URIError.
  assert.equal(code(() => decodeKey('%ED%A0%80')), 'BAD_REQUEST');
  assert.equal(code(() => decodeKey('%ED%B0%80')), 'BAD_REQUEST');
  assert.equal(validateKey('\ud83d\ude00'), '😀');
  assert.equal(decodeKey('%F0%9F%98%80'), '😀');
});

test('every valid key survives kvPath and back, dot-segments included', () => {
  assert.equal(kvPath('.'), '/v1/kv/%2E');
  assert.equal(kvPath('..', 'ttl=5'), '/v1/kv/%2E%2E?ttl=5');
  assert.equal(kvPath('...'), '/v1/kv/...');
  for (const key of ['.', '..', '...', './..', 'a/b', '/', '?', '#', '%', '%2E', '..%2F', ' ', 'ä', '😀', 'a?b=c#d']) {
    const { encodedKey, query } = splitKvUrl(kvPath(key, 'consistency=eventual'));
    assert.equal(decodeKey(encodedKey), key);
    assert.equal(query?.get('consistency'), 'eventual');
  }
});

test('ttl, consistency and conditional headers', () => {
  assert.equal(parseTtl(undefined), undefined);
  assert.equal(parseTtl('30'), 30);
  for (const bad of ['0', '-1', '1.5', 'x', '', ['1', '2'], '99999999999']) assert.equal(code(() => parseTtl(bad)), 'BAD_REQUEST', String(bad));
  assert.equal(parseConsistency(undefined), 'strong');
  assert.equal(parseConsistency('eventual'), 'eventual');
  assert.equal(code(() => parseConsistency('weak')), 'BAD_REQUEST');
  assert.equal(parseIfMatch('"12"'), 12);
  assert.equal(parseIfMatch('12'), 12);
  assert.equal(parseIfMatch('*'), '*');
  assert.equal(code(() => parseIfMatch('"abc"')), 'BAD_REQUEST');
  assert.equal(parseIfNoneMatch('*'), true);
  assert.equal(parseIfNoneMatch(undefined), false);
  assert.equal(code(() => parseIfNoneMatch('"3"')), 'BAD_REQUEST');
});

test("the seed API's JSON body: canonical base64, limit on the decoded value", () => {
  assert.deepEqual(parseSeedPut(Buffer.from('{"key":"k","value":"aGk="}'), 10), { key: 'k', value: Buffer.from('hi') });
  assert.equal(code(() => parseSeedPut(Buffer.from('{"key":"k","value":"aGk"}'), 10)), 'BAD_REQUEST', 'missing padding');
  assert.equal(code(() => parseSeedPut(Buffer.from('{"key":"k","value":"a b="}'), 10)), 'BAD_REQUEST');
  assert.equal(code(() => parseSeedPut(Buffer.from('{"key":"k"'), 10)), 'BAD_REQUEST');
  assert.equal(code(() => parseSeedPut(Buffer.from('[]'), 10)), 'BAD_REQUEST');
  assert.equal(code(() => parseSeedPut(Buffer.from('{"key":"","value":""}'), 10)), 'BAD_REQUEST');
  assert.equal(code(() => parseSeedPut(Buffer.from('{"key":"k","value":"aGVsbG8="}'), 4)), 'PAYLOAD_TOO_LARGE');
  assert.deepEqual(parseSeedPut(Buffer.from('{"key":"k","value":"aGVsbG8="}'), 5).value, Buffer.from('hello'), 'limit inclusive');
});
