import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { test } from 'node:test';
import { KvClient } from '@kvstore/kvclient';
import type { ClusterView } from '@kvstore/protocol';
import { clusterAuthOf, get, put, request, runKvctl, startCluster, waitFor } from '@kvstore/testkit';
import { issueCertificate, peerFingerprint } from '@kvstore/testkit/harness';

/** A GET over https with node's own verification; resolves to the status, or rejects with the TLS error. */
function httpsStatus(url: string, options: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, { agent: false, ...options }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).once('error', reject);
  });
}

test('TLS on every listener, with a CA made by the test', async (t) => {
  const cluster = await startCluster({ name: 'tls', partitions: 1, replicas: 3, gates: 1, persistent: false, tls: true });
  t.after(() => cluster.stop());
  const tls = cluster.tls!;
  const [gate] = cluster.gateUrls as [string];
  assert.match(gate, /^https:\/\//);

  await t.test('a round trip through the gate over https, verified against the CA', async () => {
    assert.equal((await put(gate, 'greeting', 'hello over tls')).status, 200);
    assert.equal((await get(gate, 'greeting')).body.toString(), 'hello over tls');
  });

  await t.test('a self-routing client reaches the replicas over https, verified against the same CA', async () => {
    const client = new KvClient({ hosts: gate, routing: 'direct', ca: readFileSync(tls.caFile) });
    t.after(() => client.close());
    await client.put('direct', 'over tls');
    // The gate stopped: only a request that never touches it can succeed.
    cluster.gates[0]!.pause();
    try {
      const read = await client.get('direct');
      assert.deepEqual([read.value.toString(), read.partition], ['over tls', 'p0']);
    } finally {
      cluster.gates[0]!.resume();
    }
  });

  await t.test('without the CA, the gate and the replicas fail verification', async () => {
    for (const url of [gate, cluster.replicasOf('p0')[0]!.url]) {
      await assert.rejects(httpsStatus(`${url}/healthz`), (error: NodeJS.ErrnoException) => {
        assert.match(error.code ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/);
        return true;
      });
    }
    assert.equal(await httpsStatus(`${gate}/healthz`, { ca: readFileSync(tls.caFile) }), 200);
  });

  await t.test('a write reaches every replica (replication over TLS)', async () => {
    assert.equal((await put(gate, 'replicated', 'everywhere')).status, 200);
    for (const { url } of cluster.replicasOf('p0')) {
      await waitFor(async () => (await get(url, 'replicated', { consistency: 'eventual' })).body.toString() === 'everywhere', {
        what: `the write at ${url}`,
      });
    }
  });

  await t.test("the gate's calls to replicas over https: snapshot stream and status", async () => {
    const snapshot = await request('GET', `${gate}/v1/admin/partitions/p0/snapshot`);
    assert.equal(snapshot.status, 200);
    assert.match(snapshot.body.toString(), /greeting/);
    const view = (await request('GET', `${gate}/v1/cluster`)).json as ClusterView;
    for (const member of view.partitions[0]!.members) assert.equal(typeof member.lastSeq, 'number', `the status of ${member.id}`);
  });

  await t.test('kvctl verifies the gate: --cacert or KV_CACERT works, none fails with a hint, --insecure warns', async () => {
    const withCa = await runKvctl(['--host', gate, '--cacert', tls.caFile, 'get', 'greeting']);
    assert.equal(withCa.code, 0, withCa.stderr);
    assert.equal(withCa.stdout.toString().trim(), 'hello over tls');
    // health reaches the replicas over https too, verified against the same CA.
    const health = await runKvctl(['--host', gate, '--cacert', tls.caFile, 'health']);
    assert.equal(health.code, 0, `${health.stdout.toString()}${health.stderr}`);
    const fromEnv = await runKvctl(['--host', gate, 'put', 'by-env', 'yes'], { env: { KV_CACERT: tls.caFile } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const without = await runKvctl(['--host', gate, 'get', 'greeting']);
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /not trusted: give --cacert/);
    const insecure = await runKvctl(['--host', gate, '--insecure', 'get', 'greeting']);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.match(insecure.stderr, /WARNING: --insecure/);
  });

  await t.test('an internal request with the cluster proof but no client certificate of the CA is refused', async () => {
    const replica = cluster.replicasOf('p0')[0]!;
    const ca = readFileSync(tls.caFile);
    const proven = () => ({ ca, headers: clusterAuthOf(replica).headersFor('GET', '/internal/status') });
    assert.equal(await httpsStatus(`${replica.url}/internal/status`, proven()), 401);
    const withCertificate = { ...proven(), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
    assert.equal(await httpsStatus(`${replica.url}/internal/status`, withCertificate), 200);
    const refusals = () => readFileSync(replica.process.logFile, 'utf8').split('\n').filter((line) => line.includes('internal request refused'));
    await waitFor(() => refusals().some((line) => line.includes('no client certificate from the cluster CA')), {
      what: 'the refusal in the log',
    });
  });

  await t.test('new certificate files are picked up without a restart', async () => {
    const before = await peerFingerprint(gate, tls.caFile);
    assert.equal(before, new X509Certificate(readFileSync(tls.certFile)).fingerprint256);
    issueCertificate(tls, 'kvstore-renewed');
    const renewed = new X509Certificate(readFileSync(tls.certFile)).fingerprint256;
    assert.notEqual(renewed, before);
    await waitFor(async () => (await peerFingerprint(gate, tls.caFile)) === renewed, { what: 'the gate to serve the new certificate' });
    // The replicas reloaded too, and still verify each other and the gate.
    assert.equal((await put(gate, 'after-renewal', 'still works')).status, 200);
    assert.equal((await get(gate, 'after-renewal')).body.toString(), 'still works');
  });
});
