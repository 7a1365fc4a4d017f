import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError, MAX_REQUEST_ID_LENGTH, isWellFormedRequestId, newRequestId } from '@kvstore/protocol';
import { errorAnswer } from '../src/http/raw-http';
import { requestIdFor } from '../src/http/request-id';
import { SlowRequestLog } from '../src/http/slow-request-log';

describe('request ids', () => {
  it('keeps a well-formed id: 1 to 128 printable ASCII characters without spaces', () => {
    for (const id of ['a', 'x'.repeat(MAX_REQUEST_ID_LENGTH), '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '{"quoted"}~!']) {
      assert.equal(requestIdFor(id), id);
    }
  });

  it('replaces an absent, empty, too long, repeated or non-printable one with a new id', () => {
    for (const offered of [undefined, '', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'a b', 'tab\t', 'new\nline', 'caf\u00e9', '\u0000', ['a', 'b']]) {
      const id = requestIdFor(offered);
      assert.notEqual(id, offered);
      assert.ok(isWellFormedRequestId(id), id);
    }
  });

  it('makes distinct ids sharing this process prefix', () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    assert.equal(new Set(ids).size, ids.length);
    const prefixes = new Set(ids.map((id) => id.slice(0, id.lastIndexOf('-'))));
    assert.equal(prefixes.size, 1);
    assert.match(ids[0]!, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
  });

  it('are named in the body of an error answer that carries one as a header', () => {
    const named = errorAnswer(new KvError('NOT_FOUND', 'key not found'), { 'x-request-id': 'req-1' });
    assert.deepEqual(JSON.parse(named.body.toString()), { error: { code: 'NOT_FOUND', message: 'key not found', requestId: 'req-1' } });
    const unnamed = errorAnswer(new KvError('NOT_FOUND', 'key not found'));
    assert.deepEqual(JSON.parse(unnamed.body.toString()), { error: { code: 'NOT_FOUND', message: 'key not found' } });
  });
});

describe('SlowRequestLog', () => {
  const summary = () => ({ method: 'GET', url: `/v1/kv/${'k'.repeat(400)}`, status: 200, partition: 'p0' });

  it('logs a request at or over the threshold with its id, cutting a long url, and none under it', () => {
    const lines: { object: Record<string, unknown>; message: string }[] = [];
    const logger = { info: (object: object, message: string) => lines.push({ object: object as Record<string, unknown>, message }) };
    const every = new SlowRequestLog(logger, 0);
    every.finished(0.04, 'id-1', summary);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.message, 'slow request');
    assert.deepEqual({ ...lines[0]?.object, durationMs: 0 }, { requestId: 'id-1', method: 'GET', url: `/v1/kv/${'k'.repeat(293)}...`, status: 200, partition: 'p0', durationMs: 0 });
    const none = new SlowRequestLog(logger, 60_000);
    none.finished(59_999, 'id-2', () => assert.fail('the summary of a fast request is not built'));
    assert.equal(lines.length, 1);
  });
});
