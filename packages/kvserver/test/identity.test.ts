import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { IdentityMismatchError, claimDataDir } from '../src/store/identity';

const identity = { cluster: 'default', partition: 'p0', id: 'r1' };

describe('claimDataDir', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kvserver-identity-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes identity.json on the first claim, creating the directory', () => {
    const dataDir = join(root, 'nested', 'data');
    claimDataDir(dataDir, identity);
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'identity.json'), 'utf8')), identity);
  });

  it('accepts the same identity again', () => {
    claimDataDir(root, identity);
    assert.doesNotThrow(() => claimDataDir(root, { ...identity }));
  });

  for (const [field, other] of [['id', 'r2'], ['partition', 'p1'], ['cluster', 'staging']] as const) {
    it(`refuses another ${field}, naming it, and keeps the stored identity`, () => {
      claimDataDir(root, identity);
      assert.throws(
        () => claimDataDir(root, { ...identity, [field]: other }),
        (error: unknown) => error instanceof IdentityMismatchError && error.message.includes(`${field} "${identity[field]}", not "${other}"`),
      );
      assert.deepEqual(JSON.parse(readFileSync(join(root, 'identity.json'), 'utf8')), identity);
    });
  }
});
