import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClusterSecretError, readClusterSecret } from '@kvstore/cluster';
import { parseGateConfig } from '@kvstore/kvgate';
import { parseServerConfig } from '@kvstore/kvserver';
import { tempDir } from '@kvstore/testkit';
import { REPO_ROOT } from '@kvstore/testkit/harness';
import { parse, parseAllDocuments } from 'yaml';
import { programHelp } from './deploy-support';

/**
 * There is no Kubernetes here, so deploy/kubernetes is checked statically:
 * each manifest parses, refers only to what the set defines (labels, ports,
 * volumes, ConfigMap, Secret, Services), and the kvserver and kvgate command
 * lines use only flags and variables of the programs' own --help and pass
 * their real parsers, with the ConfigMap's kv.yaml as --config.
 */

type Labels = Record<string, string>;
type PortRef = string | number;

interface Probe {
  httpGet?: { path?: string; port?: PortRef };
  tcpSocket?: { port?: PortRef };
  exec?: { command?: string[] };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath?: string } };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort?: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

interface Volume {
  name: string;
  configMap?: { name?: string };
  secret?: { secretName?: string };
}

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Labels };
  spec?: {
    selector?: { matchLabels?: Labels } & Labels;
    serviceName?: string;
    replicas?: number;
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    ports?: { name?: string; port?: number; targetPort?: PortRef }[];
    template?: { metadata?: { labels?: Labels }; spec?: { containers?: Container[]; volumes?: Volume[] } };
    volumeClaimTemplates?: { metadata?: { name?: string } }[];
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const k8sDir = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const files = fs.readdirSync(k8sDir).filter((file) => file.endsWith('.yaml'));
const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(path.join(k8sDir, file), 'utf8')).map((document) => {
    assert.deepEqual(document.errors, [], `${file} parses`);
    return { file, ...(document.toJS() as Manifest) };
  }),
);
const named = (manifest: Manifest): string => `${manifest.kind ?? '?'} ${manifest.metadata?.name ?? '?'}`;
const ofKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const workloads = manifests.filter((manifest) => manifest.kind === 'StatefulSet' || manifest.kind === 'Deployment');
const podLabels = (workload: Manifest): Labels => workload.spec?.template?.metadata?.labels ?? {};
const containersOf = (workload: Manifest): Container[] => workload.spec?.template?.spec?.containers ?? [];
const selects = (selector: Labels, labels: Labels): boolean => Object.entries(selector).every(([key, value]) => labels[key] === value);

/** The one workload whose pods `selector` picks. */
function selectedWorkload(selector: Labels, by: string): Manifest {
  assert.ok(Object.keys(selector).length > 0, `${by} has a selector`);
  const picked = workloads.filter((workload) => selects(selector, podLabels(workload)));
  assert.equal(picked.length, 1, `${by} selects the pods of one workload, not of ${picked.map(named).join(', ') || 'none'}`);
  return picked[0] as Manifest;
}

function hasPort(container: Container, port: PortRef | undefined): boolean {
  return (container.ports ?? []).some((declared) => declared.name === port || declared.containerPort === port);
}

function programOf(container: Container): 'kvserver' | 'kvgate' | undefined {
  return /^node packages\/(kvserver|kvgate)\/dist\/src\/main\.js$/.exec(container.command?.join(' ') ?? '')?.[1] as 'kvserver' | 'kvgate' | undefined;
}

const configMap = ofKind('ConfigMap')[0];
const secret = ofKind('Secret')[0];
const zookeeper = ofKind('StatefulSet').find((workload) => containersOf(workload).some((container) => /^zookeeper(:|$)/.test(container.image ?? '')));

/** The ZooKeeper members by their stable names under the ensemble's headless Service: zk-0.zk-hs, ... */
function ensembleHosts(): string[] {
  assert.ok(zookeeper, 'a ZooKeeper StatefulSet');
  return Array.from({ length: zookeeper.spec?.replicas ?? 0 }, (_, ordinal) => `${zookeeper.metadata?.name ?? ''}-${ordinal}.${zookeeper.spec?.serviceName ?? ''}`);
}

/**
 * What Kubernetes would hand the program of pod `podName`: its env (field
 * references filled in, `$(VAR)` expanded as the kubelet does) and its args.
 */
function resolveContainer(container: Container, podName: string): { env: Record<string, string>; args: string[] } {
  const fields: Record<string, string> = { 'metadata.name': podName, 'metadata.namespace': 'kv-test', 'status.podIP': '10.1.2.3' };
  const env: Record<string, string> = {};
  const expand = (text: string): string => text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    const value = fieldPath === undefined ? expand(variable.value ?? '') : fields[fieldPath];
    assert.ok(value !== undefined, `${container.name}: ${variable.name} from ${fieldPath ?? '?'}`);
    env[variable.name] = value;
  }
  return { env, args: (container.args ?? []).map(expand) };
}

describe('deploy/kubernetes', () => {
  it('holds the whole set, each document with apiVersion, kind and a name unique for its kind', () => {
    assert.deepEqual(
      [...new Set(manifests.map((manifest) => manifest.kind))].sort(),
      ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service', 'StatefulSet'],
    );
    for (const manifest of manifests) assert.ok(manifest.apiVersion && manifest.metadata?.name, `${manifest.file}: ${named(manifest)}`);
    const names = manifests.map(named);
    assert.equal(new Set(names).size, names.length, names.join(', '));
    assert.equal(ofKind('ConfigMap').length, 1);
    assert.equal(ofKind('Secret').length, 1);
  });

  it('workloads select their own pods; every Service and PodDisruptionBudget selects the pods of exactly one workload', () => {
    for (const workload of workloads) {
      const selector = workload.spec?.selector?.matchLabels ?? {};
      assert.ok(Object.keys(selector).length > 0 && selects(selector, podLabels(workload)), `${named(workload)} selects its template's labels`);
    }
    for (const service of ofKind('Service')) {
      const { matchLabels: _, ...selector } = service.spec?.selector ?? {};
      selectedWorkload(selector, named(service));
    }
    for (const budget of ofKind('PodDisruptionBudget')) selectedWorkload(budget.spec?.selector?.matchLabels ?? {}, named(budget));
  });

  it("each Service's target ports and each probe's port are ports of the selected containers", () => {
    for (const service of ofKind('Service')) {
      const { matchLabels: _, ...selector } = service.spec?.selector ?? {};
      const containers = containersOf(selectedWorkload(selector, named(service)));
      for (const port of service.spec?.ports ?? []) {
        assert.ok(containers.some((container) => hasPort(container, port.targetPort ?? port.port)), `${named(service)}: port ${port.name ?? ''} → ${String(port.targetPort)}`);
      }
    }
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        for (const [kind, probe] of [
          ['readiness', container.readinessProbe],
          ['liveness', container.livenessProbe],
        ] as const) {
          assert.ok(probe, `${named(workload)}: a ${kind} probe`);
          if (probe.exec) continue;
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          assert.ok(hasPort(container, port), `${named(workload)}: the ${kind} probe's port ${String(port)} is a container port`);
        }
      }
    }
  });

  it('volume mounts name volumes or claim templates of their pod; the ConfigMap and Secret they name exist', () => {
    for (const workload of workloads) {
      const volumes = workload.spec?.template?.spec?.volumes ?? [];
      const names = new Set([...volumes.map((volume) => volume.name), ...(workload.spec?.volumeClaimTemplates ?? []).map((claim) => claim.metadata?.name)]);
      for (const container of containersOf(workload)) {
        for (const mount of container.volumeMounts ?? []) assert.ok(names.has(mount.name), `${named(workload)}: ${mount.name} at ${mount.mountPath}`);
      }
      for (const volume of volumes) {
        if (volume.configMap) assert.equal(volume.configMap.name, configMap?.metadata?.name, `${named(workload)}: ConfigMap of ${volume.name}`);
        if (volume.secret) assert.equal(volume.secret.secretName, secret?.metadata?.name, `${named(workload)}: Secret of ${volume.name}`);
      }
    }
  });

  it('each StatefulSet names a headless Service of its own pods, resolvable before they are ready', () => {
    for (const set of ofKind('StatefulSet')) {
      const service = ofKind('Service').find((candidate) => candidate.metadata?.name === set.spec?.serviceName);
      assert.ok(service, `${named(set)}: Service ${set.spec?.serviceName ?? '?'}`);
      assert.equal(service.spec?.clusterIP, 'None', `${named(service)} is headless`);
      assert.equal(service.spec?.publishNotReadyAddresses, true, `${named(service)} publishes pods before they are ready`);
      const { matchLabels: _, ...selector } = service.spec?.selector ?? {};
      assert.equal(selectedWorkload(selector, named(service)), set);
    }
  });

  it('the ZooKeeper ensemble: three members, ids from the pod ordinals, each listing all by their stable names', () => {
    assert.ok(zookeeper);
    assert.equal(zookeeper.spec?.replicas, 3);
    const [container] = containersOf(zookeeper);
    assert.ok(container);
    assert.match(container.command?.join(' ') ?? '', /export ZOO_MY_ID=\$\(\( \$\{HOSTNAME##\*-\} \+ 1 \)\)/);
    const servers = ensembleHosts()
      .map((host, ordinal) => `server.${ordinal + 1}=${host}:2888:3888;2181`)
      .join(' ');
    assert.equal(container.env?.find((variable) => variable.name === 'ZOO_SERVERS')?.value, servers);
    for (const port of [2181, 2888, 3888]) assert.ok(hasPort(container, port), `ZooKeeper listens on ${port}`);
  });

  it("the ConfigMap's kv.yaml holds only settings both programs list in --help", () => {
    const settings = parse(configMap?.data?.['kv.yaml'] ?? '') as Record<string, unknown>;
    assert.ok(Object.keys(settings).length > 0);
    for (const program of ['kvserver', 'kvgate'] as const) {
      const { flags } = programHelp(program);
      for (const key of Object.keys(settings)) assert.ok(flags.has(`--${key}`), `${program} --help lists --${key}`);
    }
    assert.equal(settings.zk, ensembleHosts().map((host) => `${host}:2181`).join(','), 'every ensemble member');
  });

  it('the Secret holds a placeholder the programs refuse, so an unedited apply cannot run on a published secret', () => {
    const file = path.join(tempDir('deploy-secret'), 'cluster.secret');
    fs.writeFileSync(file, secret?.stringData?.['cluster.secret'] ?? '');
    assert.throws(() => readClusterSecret(file), ClusterSecretError);
  });

  const programs = workloads.flatMap((workload) =>
    containersOf(workload).flatMap((container) => {
      const program = programOf(container);
      return program === undefined ? [] : [{ workload, container, program }];
    }),
  );

  it('runs two partitions of three replicas and a gate Deployment', () => {
    const replicas = programs.filter(({ program }) => program === 'kvserver').map(({ workload }) => [workload.kind, workload.metadata?.name, workload.spec?.replicas]);
    assert.deepEqual(replicas, [
      ['StatefulSet', 'kv-p0', 3],
      ['StatefulSet', 'kv-p1', 3],
    ]);
    assert.deepEqual(
      programs.filter(({ program }) => program === 'kvgate').map(({ workload }) => workload.kind),
      ['Deployment'],
    );
  });

  it('kvserver and kvgate use only flags and variables of their own --help', () => {
    for (const { workload, container, program } of programs) {
      const help = programHelp(program);
      for (const flag of (container.args ?? []).filter((arg) => arg.startsWith('--'))) assert.ok(help.flags.has(flag), `${named(workload)}: ${flag} is in ${program} --help`);
      for (const { name } of container.env ?? []) {
        if (name.startsWith('KV_')) assert.ok(help.env.has(name), `${named(workload)}: ${name} is in ${program} --help`);
      }
    }
  });

  it('their command lines pass the real parsers with the mounted kv.yaml: ids from pod names, advertised under the Service, ports and paths on the mounts', () => {
    const configDir = tempDir('deploy-config');
    for (const [key, content] of Object.entries(configMap?.data ?? {})) fs.writeFileSync(path.join(configDir, key), content);
    for (const { workload, container, program } of programs) {
      const podName = workload.kind === 'StatefulSet' ? `${workload.metadata?.name ?? ''}-0` : `${workload.metadata?.name ?? ''}-5d8f7c-x2x9z`;
      const { env, args } = resolveContainer(container, podName);
      const mountOf = (volume: (candidate: Volume) => boolean): string | undefined => {
        const name = (workload.spec?.template?.spec?.volumes ?? []).find(volume)?.name;
        return container.volumeMounts?.find((mount) => mount.name === name)?.mountPath;
      };
      // --config must name a key of the mounted ConfigMap; the test reads its copy of that key.
      const at = args.indexOf('--config');
      const configFile = args[at + 1] ?? '';
      assert.equal(path.posix.dirname(configFile), mountOf((volume) => volume.configMap !== undefined), `${named(workload)}: --config is on the ConfigMap's mount`);
      assert.ok(path.posix.basename(configFile) in (configMap?.data ?? {}), `${named(workload)}: ${configFile} is a key of the ConfigMap`);
      args[at + 1] = path.join(configDir, path.posix.basename(configFile));

      const config = program === 'kvserver' ? parseServerConfig(args, env) : parseGateConfig(args, env);
      assert.ok(hasPort(container, config.port), `${named(workload)}: --port ${config.port} is a container port`);
      assert.equal(path.posix.dirname(config.clusterSecretFile), mountOf((volume) => volume.secret !== undefined), `${named(workload)}: the secret file is on the Secret's mount`);
      assert.ok(path.posix.basename(config.clusterSecretFile) in (secret?.stringData ?? secret?.data ?? {}), `${named(workload)}: the secret file is a key of the Secret`);
      assert.equal(config.host, '0.0.0.0', `${named(workload)} listens on the pod's address`);
      if ('partition' in config) {
        assert.equal(workload.metadata?.name, `kv-${config.partition}`);
        assert.equal(config.id, podName, 'the id is the stable pod name');
        assert.equal(config.advertiseUrl, `http://${podName}.${workload.spec?.serviceName ?? ''}.kv-test.svc:${config.port}`);
        assert.equal(config.dataDir, container.volumeMounts?.find((mount) => mount.name === 'data')?.mountPath, 'data on the claim template');
      } else {
        assert.equal(config.advertise, `http://10.1.2.3:${config.port}`, 'a gate advertises its pod address');
      }
    }
  });
});
