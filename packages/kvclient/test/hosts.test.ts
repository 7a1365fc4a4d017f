import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFromEnv, parseHosts } from '../src/index';

test('host:port entries become http base urls, lists split on commas', () => {
  assert.deepEqual(parseHosts(['a:1, b:2', 'https://c:3/', 'a:1']), ['http://a:1', 'http://b:2', 'https://c:3']);
});

test('KV_HOST is a comma-separated list with localhost:3000 as the default', () => {
  assert.deepEqual(hostsFromEnv({ KV_HOST: 'x:1,y:2' }), ['http://x:1', 'http://y:2']);
  assert.deepEqual(hostsFromEnv({}), ['http://localhost:3000']);
  assert.deepEqual(hostsFromEnv({ KV_HOST: ' ' }), ['http://localhost:3000']);
});

test('an unusable host is a configuration error', () => {
  assert.throws(() => parseHosts(['ftp://x:1']), /only http and https/);
  assert.throws(() => parseHosts([' , ']), /no host given/);
});
