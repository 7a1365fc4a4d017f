import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKvUrl, queryParam, splitKvUrl } from '../src/kv-url';

describe('the /v1/kv url', () => {
  it('know a /v1/kv url from its look-alikes', () => {
    for (const url of ['/v1/kv', '/v1/kv/', '/v1/kv/a', '/v1/kv?x=1', '/v1/kv/a%2Fb?ttl=5']) assert.ok(isKvUrl(url), url);
    for (const url of ['/v1/kvx', '/v1/k', '/v1/cluster', '/', '/v1/kv2/a']) assert.ok(!isKvUrl(url), url);
  });

  it('split the encoded key from the query', () => {
    const { encodedKey, query } = splitKvUrl('/v1/kv/a%2Fb?ttl=5&consistency=eventual');
    assert.equal(encodedKey, 'a%2Fb');
    assert.equal(queryParam(query, 'ttl'), '5');
    assert.equal(queryParam(query, 'consistency'), 'eventual');
    assert.equal(queryParam(query, 'missing'), undefined);
    assert.equal(splitKvUrl('/v1/kv').encodedKey, '');
    assert.deepEqual(queryParam(splitKvUrl('/v1/kv/a?ttl=1&ttl=2').query, 'ttl'), ['1', '2']);
  });
});
