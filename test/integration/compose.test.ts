import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseGateConfig } from '@kvstore/kvgate';
import { parseServerConfig } from '@kvstore/kvserver';
import { parse } from 'yaml';
import { programHelp } from './deploy-support';

/**
 * There is no Docker engine in CI, so docker-compose.yml is checked
 * statically: every command line must pass the programs' own config parsers,
 * and the services must agree with each other on names and ports.
 */

interface Service {
  image?: string;
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  entrypoint?: string[];
  command?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
}

const composeFile = path.resolve(__dirname, '..', '..', '..', 'docker-compose.yml');
// `merge` resolves the `<<: *kvserver` keys the replicas share.
const compose = parse(fs.readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = Object.entries(compose.services);

function programOf(service: Service): string | undefined {
  return /packages\/(kvserver|kvgate)\/dist\/src\/main\.js$/.exec(service.entrypoint?.join(' ') ?? '')?.[1];
}

/** The value of `--name` in an argv; the parsers already proved the argv well formed. */
function flag(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? undefined : argv[index + 1];
}

/** Container ports of a service's "host:port:container" mappings. */
function containerPorts(service: Service): string[] {
  return (service.ports ?? []).map((mapping) => mapping.split(':').at(-1) as string);
}

const servers = services.filter(([, service]) => programOf(service) === 'kvserver');
const gates = services.filter(([, service]) => programOf(service) === 'kvgate');
const ensemble = services.filter(([name]) => /^zk\d+$/.test(name));
const ensembleMembers = ensemble.map(([name]) => `${name}:2181`).join(',');

test('three ZooKeeper services make one ensemble: ids 1 to 3, each listing all three, healthy only within a quorum', () => {
  assert.deepEqual(
    ensemble.map(([name]) => name),
    ['zk1', 'zk2', 'zk3'],
  );
  const servers = ensemble.map(([name], index) => `server.${index + 1}=${name}:2888:3888;2181`).join(' ');
  for (const [name, service] of ensemble) {
    assert.match(service.image ?? '', /^zookeeper(:|$)/, name);
    assert.equal(service.environment?.ZOO_MY_ID, name.slice(2), `${name}'s ZOO_MY_ID`);
    assert.equal(service.environment?.ZOO_SERVERS, servers, `${name}'s ZOO_SERVERS`);
    assert.deepEqual(containerPorts(service), ['2181'], `${name} publishes its client port`);
    assert.deepEqual(service.healthcheck?.test, ['CMD', 'zkServer.sh', 'status']);
    for (const { source } of mounts(service)) assert.ok(compose.volumes && source in compose.volumes, `${name}: volume ${source} is declared`);
  }
});

test('every kvserver and kvgate command passes its real config parser', () => {
  assert.equal(servers.length, 6);
  assert.equal(gates.length, 1);
  for (const [name, service] of servers) {
    assert.doesNotThrow(() => parseServerConfig(service.command ?? [], {}), `${name}: ${service.command?.join(' ')}`);
  }
  for (const [name, service] of gates) {
    assert.doesNotThrow(() => parseGateConfig(service.command ?? [], {}), `${name}: ${service.command?.join(' ')}`);
  }
});

test('every program is given the whole ensemble, and starts once each member is healthy', () => {
  for (const [name, service] of [...servers, ...gates]) {
    assert.equal(flag(service.command ?? [], 'zk'), ensembleMembers, name);
    const dependencies = service.depends_on as Record<string, { condition?: string }>;
    for (const [member] of ensemble) assert.equal(dependencies[member]?.condition, 'service_healthy', `${name} waits for ${member}`);
  }
});

test('every flag given is one the program lists in its --help', () => {
  for (const [name, service] of [...servers, ...gates]) {
    const known = programHelp(programOf(service) as 'kvserver' | 'kvgate').flags;
    for (const given of (service.command ?? []).filter((arg) => arg.startsWith('--'))) assert.ok(known.has(given), `${name}: ${given} is not in --help`);
  }
});

test('published and advertised ports are the --port, advertised under the service name', () => {
  for (const [name, service] of [...servers, ...gates]) {
    const argv = service.command ?? [];
    const port = flag(argv, 'port');
    assert.ok(port, `${name} has --port`);
    assert.deepEqual(containerPorts(service), [port], `${name} publishes --port`);
    assert.equal(flag(argv, 'host'), '0.0.0.0', `${name} listens beyond its container's loopback`);
    assert.equal(flag(argv, 'advertise'), `http://${name}:${port}`, `${name} advertises itself`);
  }
});

test('replica ids are unique, match their service, and every partition has three replicas', () => {
  const ids = servers.map(([, service]) => flag(service.command ?? [], 'id'));
  assert.equal(new Set(ids).size, ids.length, `unique ids: ${ids.join(', ')}`);
  const replicasByPartition = new Map<string, number>();
  for (const [name, service] of servers) {
    const argv = service.command ?? [];
    assert.equal(flag(argv, 'id'), name);
    const partition = flag(argv, 'partition') ?? '';
    replicasByPartition.set(partition, (replicasByPartition.get(partition) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(replicasByPartition), { p0: 3, p1: 3 });
});

/** "source:target[:mode]" of a service's volume mounts. */
function mounts(service: Service): { source: string; target: string; mode: string | undefined }[] {
  return (service.volumes ?? []).map((volume) => {
    const [source = '', target = '', mode] = volume.split(':');
    return { source, target, mode };
  });
}

test('every program reads the cluster secret from the one volume the cluster-secret service fills, read-only, after it', () => {
  const maker = compose.services['cluster-secret'];
  assert.ok(maker, 'a cluster-secret service');
  assert.match(maker.entrypoint?.join(' ') ?? '', /ensureClusterSecretFile\('\/secret\/cluster\.secret'\)/);
  const [made] = mounts(maker);
  assert.deepEqual(made, { source: 'cluster-secret', target: '/secret', mode: undefined });
  assert.ok(compose.volumes && 'cluster-secret' in compose.volumes, 'a named volume');
  for (const [name, service] of [...servers, ...gates]) {
    const file = flag(service.command ?? [], 'cluster-secret-file');
    assert.equal(file, '/secret/cluster.secret', `${name} passes --cluster-secret-file`);
    assert.ok(
      mounts(service).some((mount) => mount.source === 'cluster-secret' && mount.target === path.posix.dirname(file) && mount.mode === 'ro'),
      `${name} mounts the secret read-only: ${service.volumes?.join(', ')}`,
    );
    const dependencies = service.depends_on as Record<string, { condition?: string }>;
    assert.equal(dependencies['cluster-secret']?.condition, 'service_completed_successfully', `${name} starts once the secret is made`);
  }
});
