import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, KvError, errorFromBody, notLeader } from '../src/errors';

test('every code maps to the status DESIGN.md gives it', () => {
  const expected: Record<string, number> = {
    BAD_REQUEST: 400,
    UNAUTHORIZED: 401,
    NOT_FOUND: 404,
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
