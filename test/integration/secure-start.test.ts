import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, put, tempDir } from '@kvstore/testkit';
import { HeldPorts, ManagedProcess, REPO_ROOT, trustCa, waitFor } from '@kvstore/testkit/harness';

test('npm start -- --secure prints the https url, the token file and the CA, and they work', async (t) => {
  const dir = tempDir('secure-start');
  const held = await HeldPorts.hold(3);
  const [gatePort, replicaPort, zkPort] = held.ports as [number, number, number];
  await held.releaseAll();
  const args = ['--secure', '--data-dir', dir, '--partitions', '1', '--replicas', '1', '--port', String(gatePort), '--base-port', String(replicaPort), '--zk-port', String(zkPort)];
  const script = await ManagedProcess.start({
    name: 'npm start -- --secure',
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'scripts', 'dist', 'local-cluster.js'), ...args],
    logFile: path.join(dir, 'start.out'),
    cwd: REPO_ROOT,
  });
  // SIGTERM to the script, by its pid: it stops the gate, the replica and its ZooKeeper itself.
  t.after(() => script.stop(60_000));
  const out = await waitFor(
    () => {
      if (!script.running) throw new Error(`the script ${script.describeExit()}:\n${script.logTail()}`);
      const text = readFileSync(script.logFile, 'utf8');
      return text.includes('Ctrl-C stops everything.') && text;
    },
    { timeoutMs: 90_000, what: 'the banner' },
  );
  const gateUrl = `https://127.0.0.1:${gatePort}`;
  assert.match(out, new RegExp(`gate +${gateUrl.replace(/[.]/g, '\\.')}`));
  const tokenFile = /token file: (\S+)/.exec(out)?.[1];
  const caFile = /ca: (\S+)/.exec(out)?.[1];
  assert.equal(tokenFile, path.join(dir, 'admin.token'));
  assert.equal(caFile, path.join(dir, 'tls', 'ca.pem'));
  assert.match(out, /curl --cacert \S+ -H "Authorization: Bearer \$\(cat \S+\)"/);
  trustCa(caFile);
  const bearer = { headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } };
  assert.equal((await put(gateUrl, 'hello', 'secure world', bearer)).status, 200);
  assert.equal((await get(gateUrl, 'hello', bearer)).body.toString(), 'secure world');
  assert.equal((await get(gateUrl, 'hello')).status, 401);
  // The web view's sign-in: under TLS its cookie is Secure.
  const signedIn = await fetch(`${gateUrl}/v1/ui/session`, { method: 'POST', ...bearer });
  assert.equal(signedIn.status, 200);
  assert.match(signedIn.headers.get('set-cookie') ?? '', /^kvstore_ui=[^;]+; Path=\/v1\/ui; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
});
