import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureClusterSecretFile } from '@kvstore/cluster';
import { HeldPorts, ManagedProcess, get, put, tempDir, uniqueClusterName, waitForHealthy, zookeeperForTests } from '@kvstore/testkit';
import { REPO_ROOT, programMain, waitForSettledCluster } from '@kvstore/testkit/harness';

/** Real kvserver and kvgate processes taking their settings from `--config kv.yaml` (docs/command-lines.md, "Settings file"). */

function start(program: 'kvserver' | 'kvgate', name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Promise<ManagedProcess> {
  return ManagedProcess.start({ name, command: process.execPath, args: [programMain(program), ...args], env: { ...process.env, ...env }, logFile, cwd: REPO_ROOT });
}

describe('kvserver and kvgate configured by a settings file', () => {
  const cluster = uniqueClusterName('config-file');
  const dir = tempDir(cluster);
  const file = path.join(dir, 'kv.yaml');
  const children: ManagedProcess[] = [];
  let serverPort: number;
  let gateUrl: string;

  before(async () => {
    const zookeeper = await zookeeperForTests();
    const held = await HeldPorts.hold(3);
    const [filePort, flagPort, envPort] = held.ports as [number, number, number];
    serverPort = flagPort;
    gateUrl = `http://127.0.0.1:${envPort}`;
    // One file for both programs (the keys they share), as a Kubernetes ConfigMap would hold it; its port is overridden by each.
    writeFileSync(
      file,
      [
        `zk: ${zookeeper.connectString}`,
        `cluster: ${cluster}`,
        `cluster-secret-file: ${ensureClusterSecretFile(path.join(dir, 'cluster.secret'))}`,
        'host: 127.0.0.1',
        `port: ${filePort}`,
        'write-timeout: 2000',
        '',
      ].join('\n'),
    );
    await held.releaseAll();
    // kvserver: the file by flag, its port by flag; kvgate: the file by variable, its port by variable.
    const server = await start('kvserver', 'kvserver r1', ['--config', file, '--partition', 'p0', '--id', 'r1', '--port', String(flagPort)], {}, path.join(dir, 'r1.log'));
    children.push(server);
    await waitForHealthy(server, `http://127.0.0.1:${flagPort}`, 15_000);
    const gate = await start('kvgate', 'kvgate', [], { KV_CONFIG: file, KV_PORT: String(envPort) }, path.join(dir, 'gate.log'));
    children.push(gate);
    await waitForHealthy(gate, gateUrl, 15_000);
  });
  after(async () => {
    await Promise.all(children.map((child) => child.stop()));
  });

  it('join the cluster the file names, on the ports the flag and the variable give, and serve a key', async () => {
    const view = await waitForSettledCluster(gateUrl, { partitions: new Map([['p0', ['r1']]]) }, 30_000);
    assert.equal(view.partitions.find((partition) => partition.name === 'p0')?.leader, 'r1');
    assert.equal((await put(gateUrl, 'configured', 'by file')).status, 200);
    const read = await get(gateUrl, 'configured');
    assert.equal(read.body.toString(), 'by file');
    assert.equal(read.headers.get('x-kv-replica'), 'r1');
    assert.equal((await get(`http://127.0.0.1:${serverPort}`, 'configured')).body.toString(), 'by file');
  });
});

describe('a settings file the programs cannot use', () => {
  const dir = tempDir('config-file-refused');
  const cases: [name: string, content: string | undefined, says: (file: string) => string][] = [
    ['unknown-key.yaml', 'zk: 127.0.0.1:1\nsecretFile: s\n', (file) => `${file}: unknown key "secretFile"; the keys are the long flag names without "--"`],
    ['bad-port.yaml', 'zk: 127.0.0.1:1\nport: 70000\n', (file) => `${file}: port must be an integer from 1 to 65535, got "70000"`],
    ['wrong-type.yaml', 'zk: [127.0.0.1:1]\n', (file) => `${file}: zk must be a string or a number, got a list`],
    ['not-yaml.yaml', 'zk: [127.0.0.1:1\n', (file) => `${file}: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1`],
    ['absent.yaml', undefined, (file) => `cannot read --config ${file}: ENOENT`],
  ];
  for (const program of ['kvserver', 'kvgate'] as const) {
    it(`${program}: one line naming the file and the key, exit 2`, () => {
      for (const [name, content, says] of cases) {
        const file = path.join(dir, name);
        if (content !== undefined) writeFileSync(file, content);
        const result = spawnSync(process.execPath, [programMain(program), '--config', file], { encoding: 'utf8', timeout: 10_000 });
        assert.equal(result.status, 2, `${name}: ${result.stderr}`);
        assert.equal(result.stderr, `${program}: ${says(file)}\n`);
      }
    });
  }
});
