import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Command, InvalidArgumentError } from 'commander';
import * as zookeeper from 'node-zookeeper-client';
import { ConfigError, ZK_AUTH_FILE, ZkDigest, aclsFor, closedAcls, isSharedParent, openRootWarning, parseCommandLine, parseZkAuth, readZkAuthFile, type ZkClient } from '../src/index';
import { MemoryZooKeeper } from '../src/testing';

const PASSWORD = 'a-password-of-24-chars!!';

/** The client's ACL objects carry `permission`; its type declarations say `perms`. */
const describeAcl = (acl: zookeeper.ACL): string => `${acl.id.scheme}:${acl.id.id}:${(acl as unknown as { permission: number }).permission}`;

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, `not an InvalidArgumentError: ${String(error)}`);
    return error.message;
  }
  assert.fail('not refused');
}

describe('parseZkAuth', () => {
  it('reads one line user:password, a trailing newline allowed, a colon allowed in the password', () => {
    assert.equal(parseZkAuth(`kvstore:${PASSWORD}\n`).user, 'kvstore');
    assert.equal(parseZkAuth(`ops.team_1:${PASSWORD}:more`).authData().toString(), `ops.team_1:${PASSWORD}:more`);
  });

  it('refuses ill-formed content, saying the format and never echoing the content', () => {
    for (const text of ['', '\n', 'kvstore', `:${PASSWORD}`, 'kvstore:short', `kv store:${PASSWORD}`, `kvstore:${PASSWORD} x`, `kvstore:${PASSWORD}\nsecond:${PASSWORD}`]) {
      const message = refusal(() => parseZkAuth(text));
      assert.match(message, /one line user:password/, `for ${JSON.stringify(text)}`);
      assert.ok(!message.includes(PASSWORD), 'the password is not in the message');
    }
  });
});

describe('ZkDigest', () => {
  it("names the identity as ZooKeeper's DigestAuthenticationProvider does", () => {
    // The example of ZooKeeper's administrator's guide: super:test is super:D/InIHSb7yEEbrWz8b9l71RjZJU=
    assert.equal(new ZkDigest('super', 'test').id, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  it('keeps the password out of JSON and inspection', () => {
    const digest = new ZkDigest('kvstore', PASSWORD);
    assert.equal(JSON.stringify({ digest }), '{"digest":{"user":"kvstore"}}');
    assert.ok(!JSON.stringify(Object.entries(digest)).includes(PASSWORD));
  });
});

describe('readZkAuthFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-auth-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string, mode: number): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    fs.chmodSync(file, mode);
    return file;
  };

  it('reads a file its owner alone may read', () => {
    assert.equal(readZkAuthFile(write('ok', `kvstore:${PASSWORD}\n`, 0o600)).user, 'kvstore');
    assert.equal(readZkAuthFile(write('group', `kvstore:${PASSWORD}\n`, 0o640)).user, 'kvstore');
  });

  it('refuses a missing file, a world-readable one, and ill-formed content', () => {
    assert.match(refusal(() => readZkAuthFile(path.join(dir, 'absent'))), /readable file \(ENOENT\)/);
    assert.match(refusal(() => readZkAuthFile(write('open', `kvstore:${PASSWORD}\n`, 0o644))), /not be readable by others/);
    assert.match(refusal(() => readZkAuthFile(write('bad', 'nonsense\n', 0o600))), /one line user:password/);
  });

  it('is refused by the command line on one line that names the flag and not the content', () => {
    const file = write('cli', 'kvstore:short\n', 0o600);
    assert.throws(
      () => parseCommandLine(new Command('t'), { zkAuthFile: ZK_AUTH_FILE }, ['--zk-auth-file', file]),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('--zk-auth-file must hold one line') && !error.message.includes('\n'),
    );
  });
});

describe('the ACLs', () => {
  const digest = new ZkDigest('kvstore', PASSWORD);

  it('without credentials: every node open to anyone', () => {
    const acls = aclsFor(undefined);
    assert.deepEqual(acls.node.map(describeAcl), ['world:anyone:31']);
    assert.deepEqual(acls.sharedParent.map(describeAcl), ['world:anyone:31']);
  });

  it("with credentials: every right to the identity and none to anyone else; above the cluster roots anyone may read, create and delete", () => {
    const acls = closedAcls(digest);
    assert.deepEqual(acls.node.map(describeAcl), [`digest:${digest.id}:31`]);
    const readCreateDelete = zookeeper.Permission.READ | zookeeper.Permission.CREATE | zookeeper.Permission.DELETE;
    assert.deepEqual(acls.sharedParent.map(describeAcl), [`digest:${digest.id}:31`, `world:anyone:${readCreateDelete}`]);
    assert.deepEqual(aclsFor(digest), acls);
  });

  it('takes only /kvstore and / for the parents clusters share', () => {
    assert.ok(isSharedParent('/kvstore'));
    assert.ok(isSharedParent('/'));
    for (const path of ['/kvstore/default', '/kvstore/default/ring', '/kvstorex', '/kv', '/other']) assert.ok(!isSharedParent(path), path);
  });
});

describe('openRootWarning', () => {
  const digest = new ZkDigest('kvstore', PASSWORD);
  const withAcl = (acl: string[] | undefined): ZkClient => ({ getAcl: () => Promise.resolve(acl) }) as unknown as ZkClient;

  it('warns a process with credentials whose cluster root anyone may use, naming the way to close it', async () => {
    const session = new MemoryZooKeeper().connect();
    await session.mkdirp('/kvstore/default');
    assert.match((await openRootWarning(session, '/kvstore/default', digest)) ?? '', /^\/kvstore\/default is open to anyone.*kvstore-zk-acl/);
    assert.equal(await openRootWarning(session, '/kvstore/default', undefined), undefined, 'no credentials: open is what was asked for');
  });

  it('says nothing of a closed root or a missing one', async () => {
    assert.equal(await openRootWarning(withAcl([`digest:${digest.id}:31`]), '/kvstore/default', digest), undefined);
    assert.equal(await openRootWarning(withAcl(undefined), '/kvstore/default', digest), undefined);
  });
});
