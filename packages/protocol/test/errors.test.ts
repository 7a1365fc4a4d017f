import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, KvError, errorFromAnswer, errorFromBody, notLeader, unavailable } from '../src/errors';

test('every code maps to the status docs/api.md gives it', () => {
  const expected: Record<string, number> = {
    BAD_REQUEST: 400,
    UNAUTHORIZED: 401,
    NOT_FOUND: 404,
    CONFLICT: 409,
    PRECONDITION_FAILED: 412,
    PAYLOAD_TOO_LARGE: 413,
    NOT_LEADER: 421,
    WRONG_PARTITION: 421,
    UNAVAILABLE: 503,
    TIMEOUT: 504,
  };
  for (const [code, status] of Object.entries(expected)) assert.equal(new KvError(code as keyof typeof ERROR_CODES, 'm').status, status);
});

test('only refusals that changed nothing are retryable; an unknown outcome is not', () => {
  assert.equal(new KvError('NOT_LEADER', 'm').retryable, true);
  assert.equal(new KvError('UNAVAILABLE', 'm').retryable, true);
  assert.equal(new KvError('TIMEOUT', 'm').retryable, false);
  assert.equal(new KvError('PRECONDITION_FAILED', 'm').retryable, false);
  assert.equal(new KvError('CONFLICT', 'm').retryable, false);
});

test('an error survives the trip through its JSON body, leader hint included', () => {
  const body = JSON.parse(JSON.stringify(notLeader('http://127.0.0.1:4001')));
  assert.deepEqual(Object.keys(body), ['error']);
  const back = errorFromBody(body)!;
  assert.equal(back.code, 'NOT_LEADER');
  assert.equal(back.leader, 'http://127.0.0.1:4001');
  assert.equal(errorFromBody({ error: { code: 'MADE_UP' } }), undefined);
  assert.equal(errorFromBody('text'), undefined);
});

test('an answer with the API error body of its status is that error', () => {
  const body = (error: KvError): Buffer => Buffer.from(JSON.stringify(error.toJSON()));
  const refused = errorFromAnswer(503, body(unavailable('isr too small')), 'gate');
  assert.deepEqual([refused.code, refused.message, refused.retryable], ['UNAVAILABLE', 'isr too small', true]);
  const moved = errorFromAnswer(421, body(notLeader('http://127.0.0.1:4001')), 'gate');
  assert.deepEqual([moved.code, moved.leader, moved.retryable], ['NOT_LEADER', 'http://127.0.0.1:4001', true]);
  assert.equal(errorFromAnswer(421, body(new KvError('WRONG_PARTITION', 'm')), 'gate').code, 'WRONG_PARTITION');
  assert.equal(errorFromAnswer(404, body(new KvError('NOT_FOUND', 'm')), 'gate').code, 'NOT_FOUND');
  assert.equal(errorFromAnswer(409, body(new KvError('CONFLICT', 'm')), 'gate').code, 'CONFLICT');
  assert.equal(errorFromAnswer(429, body(new KvError('TOO_MANY_REQUESTS', 'm')), 'gate').code, 'TOO_MANY_REQUESTS');
  assert.equal(errorFromAnswer(504, body(new KvError('TIMEOUT', 'm')), 'gate').code, 'TIMEOUT');
});

test('an answer without it is never a refusal safe to repeat, except a 421', () => {
  const html = Buffer.from('<html><body>502 Bad Gateway</body></html>');
  for (const status of [500, 502, 503, 504]) {
    const error = errorFromAnswer(status, html, 'http://lb:80');
    assert.equal(error.code, 'TIMEOUT', `bare ${status}`);
    assert.equal(error.retryable, false);
    assert.match(error.message, new RegExp(`^http://lb:80 answered HTTP ${status} without an API error body; the request's outcome is unknown$`));
  }
  // The API's body under another status was changed on the way: the status decides.
  assert.equal(errorFromAnswer(502, Buffer.from(JSON.stringify(unavailable('m').toJSON())), 'lb').code, 'TIMEOUT');
  assert.equal(errorFromAnswer(503, Buffer.from('{"error":{"code":"MADE_UP"}}'), 'lb').code, 'TIMEOUT');
  const bare421 = errorFromAnswer(421, Buffer.alloc(0), 'lb');
  assert.deepEqual([bare421.code, bare421.retryable], ['NOT_LEADER', true]);
  assert.equal(errorFromAnswer(413, html, 'lb').code, 'PAYLOAD_TOO_LARGE');
  // A proxy's rate limit is one too: never repeated at once.
  assert.deepEqual([errorFromAnswer(429, html, 'lb').code, errorFromAnswer(429, html, 'lb').retryable], ['TOO_MANY_REQUESTS', false]);
  for (const status of [400, 404, 405, 412]) assert.equal(errorFromAnswer(status, html, 'lb').code, 'BAD_REQUEST', `bare ${status}`);
  assert.equal(errorFromAnswer(302, Buffer.alloc(0), 'lb').code, 'INTERNAL');
});
