import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryZooKeeper } from '@kvstore/cluster/testing';
import { clusterPaths, parseUser } from '@kvstore/protocol';
import pino from 'pino';
import { BOOTSTRAP_USER, bootstrapAdmin } from '../src/auth/bootstrap';
import { parseToken, verifySecret } from '@kvstore/cluster';

const paths = clusterPaths('blue');
const logger = pino({ level: 'silent' });

describe('bootstrapAdmin', () => {
  it('creates the admin user and writes its token to a file only its owner reads', async () => {
    const zk = new MemoryZooKeeper();
    const file = join(mkdtempSync(join(tmpdir(), 'kv-bootstrap-')), 'admin.token');
    await bootstrapAdmin(zk.connect(), paths, file, logger);
    const token = parseToken(readFileSync(file, 'utf8').trim())!;
    const record = parseUser(zk.get(paths.user(BOOTSTRAP_USER))!.data);
    assert.deepEqual(record.grants, [{ role: 'admin' }]);
    assert.equal(record.tokens[0]!.id, token.id);
    assert.equal(await verifySecret(token.secret, record.tokens[0]!), true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('leaves an existing admin and its token file alone, however many gates run it at once', async () => {
    const zk = new MemoryZooKeeper();
    const file = join(mkdtempSync(join(tmpdir(), 'kv-bootstrap-')), 'admin.token');
    await Promise.all([1, 2, 3].map(() => bootstrapAdmin(zk.connect(), paths, file, logger)));
    const token = readFileSync(file, 'utf8');
    const record = zk.get(paths.user(BOOTSTRAP_USER))!;
    assert.equal(parseUser(record.data).tokens[0]!.id, parseToken(token.trim())!.id);
    writeFileSync(file, 'kept');
    await bootstrapAdmin(zk.connect(), paths, file, logger);
    assert.equal(readFileSync(file, 'utf8'), 'kept');
    assert.equal(zk.get(paths.user(BOOTSTRAP_USER))!.version, record.version);
  });
});
