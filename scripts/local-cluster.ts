import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ensureClusterSecretFile, ensureZkAuthFile, filePath, integer, parseCommandLine, readZkAuthFile, type Settings, type Values } from '@kvstore/cluster';
import { Command } from 'commander';
import {
  REPO_ROOT,
  ensembleOf,
  ensureTlsFiles,
  isPortFree,
  startKvGate,
  startKvServer,
  startOrAttachZooKeeper,
  trustCa,
  waitFor,
  waitForSettledCluster,
  type ManagedProcess,
  type TlsFileSet,
  type ZooKeeperEnsemble,
} from '@kvstore/testkit/harness';
import { ensembleBanner, ensembleKillHint, startLocalEnsemble, superviseEnsemble } from './local-ensemble';

/** The flags of `npm start`, in the order --help lists them. */
const SETTINGS = {
  partitions: { flags: '--partitions <n>', description: 'partitions p0..p{N-1}', parse: integer(1, 64), default: '2' },
  replicas: { flags: '--replicas <n>', description: 'replicas per partition', parse: integer(1, 9), default: '3' },
  port: { flags: '--port <n>', description: "the gate's port", parse: integer(1, 65535), default: '3000' },
  zkPort: { flags: '--zk-port <n>', description: "ZooKeeper's port; one already serving there is reused", parse: integer(1, 65535), default: '2181' },
  zkEnsemble: {
    flags: '--zk-ensemble <n>',
    description: 'run ZooKeeper as an ensemble of n members on --zk-port and up (peers on --zk-port+707.., elections on --zk-port+1707..); a killed member is restarted after 5 s',
    parse: integer(1, 7),
    default: '1',
  },
  basePort: { flags: '--base-port <n>', description: "the first replica's port; the others follow", parse: integer(1, 65535), default: '4001' },
  zkAuthFile: {
    flags: '--zk-auth-file <file>',
    description: "ZooKeeper credentials (user:password) for every process: the cluster's nodes are closed to anyone else (docs/security.md)",
    parse: checkedZkAuthFile,
  },
  dataDir: { flags: '--data-dir <dir>', description: 'where ZooKeeper, the replicas, the logs and the generated files live', parse: filePath, default: '.data' },
  secure: {
    flags: '--secure',
    description:
      'everything on (docs/security.md): TLS with a CA made in .data/tls (needs openssl), ZooKeeper credentials (.data/zk.auth unless --zk-auth-file), tokens (admin token in .data/admin.token); a cluster of its own, "secure", with its data in .data/secure',
  },
} as const satisfies Settings;

/** The file's path, once it is known to hold usable credentials: the processes read it themselves. */
function checkedZkAuthFile(file: string): string {
  readZkAuthFile(file);
  return file;
}

type Options = Values<typeof SETTINGS>;

/** The options, or exit: with the help text (0), or with one line saying what is wrong (2). */
function parseOptions(argv: string[]): Options {
  const command = new Command('npm start --').description(`Runs a local kvstore cluster: ZooKeeper, partitions of replicas, and a gate.
Data lives in ./.data, or --data-dir (ZooKeeper in .data/zookeeper, or
.data/zookeeper-ensemble/zk<i> with --zk-ensemble, replicas in
.data/replicas, logs in .data/logs, the cluster secret in
.data/cluster.secret, made on the first run). With --secure: TLS, ZooKeeper
ACLs and tokens, with the files in .data/tls, .data/zk.auth and
.data/admin.token. Ctrl-C stops everything it started.`);
  try {
    return parseCommandLine(command, SETTINGS, argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode === 0) process.stdout.write(error.message);
    else console.error(`${error.message} (see --help)`);
    process.exit(error.exitCode);
  }
}

interface Replica {
  id: string;
  partition: string;
  port: number;
  /** Set once it is running, for the banner (so a user can kill -9 it to watch a failover). */
  pid?: number;
}

function layout(options: Options): Replica[] {
  const replicas: Replica[] = [];
  for (let p = 0; p < options.partitions; p++) {
    for (let r = 1; r <= options.replicas; r++) {
      replicas.push({ id: `p${p}-r${r}`, partition: `p${p}`, port: options.basePort + replicas.length });
    }
  }
  return replicas;
}

/** Everything this run started, in the order to stop it: the gate first, ZooKeeper last. */
class Started {
  readonly gates: ManagedProcess[] = [];
  readonly servers: ManagedProcess[] = [];
  zookeeper: ZooKeeperEnsemble | undefined;
  stopping = false;
  stopSupervising: (() => void) | undefined;

  watch(child: ManagedProcess, kind: 'gate' | 'server'): void {
    (kind === 'gate' ? this.gates : this.servers).push(child);
    void child.exited.then(() => {
      if (this.stopping) return;
      console.error(`\n!! ${child.name} ${child.describeExit()} unexpectedly; the others keep running.\n--- ${child.logFile} (last lines):\n${child.logTail(20)}\n`);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSupervising?.();
    await Promise.all(this.gates.map((child) => child.stop()));
    await Promise.all(this.servers.map((child) => child.stop()));
    await this.zookeeper?.stop();
  }
}

/** What --secure made: the CA and certificate every process uses, the ZooKeeper credentials, the admin's token file. */
interface Secure {
  tls: TlsFileSet;
  zkAuthFile: string;
  tokenFile: string;
}

function banner(options: Options, zookeeperLines: string[], zookeeperHint: string[], replicas: Replica[], logDir: string, secretFile: string, secure: Secure | undefined): string {
  const scheme = secure === undefined ? 'http' : 'https';
  const gateUrl = `${scheme}://127.0.0.1:${options.port}`;
  // kvctl looks for a gate on localhost:3000 unless told otherwise.
  const kvctl =
    secure !== undefined
      ? `npx kvctl --host ${gateUrl} --cacert ${secure.tls.caFile} --token-file ${secure.tokenFile}`
      : options.port === 3000
        ? 'npx kvctl'
        : `npx kvctl --host 127.0.0.1:${options.port}`;
  const curl = secure === undefined ? 'curl' : `curl --cacert ${secure.tls.caFile} -H "Authorization: Bearer $(cat ${secure.tokenFile})"`;
  const zkAuthFile = secure?.zkAuthFile ?? options.zkAuthFile;
  return [
    '',
    'kvstore local cluster is up',
    ...zookeeperLines,
    `  gate       ${gateUrl}`,
    `  web view   ${gateUrl}/ui/  (open it, then kill -9 a leader's pid below and watch)`,
    `  metrics    ${gateUrl}/metrics, and /metrics on every replica's port`,
    ...replicas.map((replica) => `  ${replica.id.padEnd(10)} ${scheme}://127.0.0.1:${replica.port}  (partition ${replica.partition}, pid ${replica.pid})`),
    `  logs       ${logDir}`,
    `  secret     ${secretFile}  (--cluster-secret-file for any other replica or gate of this cluster)`,
    ...(zkAuthFile === undefined ? [] : [`  zk auth    ${zkAuthFile}  (--zk-auth-file: ZooKeeper nodes closed to anyone else)`]),
    ...(secure === undefined
      ? []
      : [
          `  token file: ${secure.tokenFile}  (the user admin's bearer token)`,
          `  ca: ${secure.tls.caFile}  (the cluster's CA: --cacert for kvctl and curl)`,
        ]),
    '',
    'Try:',
    `  ${kvctl} put hello world`,
    `  ${kvctl} get hello`,
    `  ${kvctl} cluster status`,
    `  ${curl} -X PUT --data-binary world ${gateUrl}/v1/kv/hello`,
    ...zookeeperHint,
    '',
    'Ctrl-C stops everything.',
  ].join('\n');
}

/** --secure's files, made on the first run and kept (the admin token stays valid across runs); this process trusts the CA for its own waits. */
function makeSecure(options: Options, dataDir: string): Secure {
  let tls: TlsFileSet;
  try {
    tls = ensureTlsFiles(path.join(dataDir, 'tls'));
  } catch (error) {
    console.error(`--secure: ${(error as Error).message}`);
    process.exit(2);
  }
  trustCa(tls.caFile);
  return { tls, zkAuthFile: options.zkAuthFile ?? ensureZkAuthFile(path.join(dataDir, 'zk.auth')), tokenFile: path.join(dataDir, 'admin.token') };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dataDir = path.resolve(REPO_ROOT, options.dataDir);
  const logDir = path.join(dataDir, 'logs');
  fs.mkdirSync(dataDir, { recursive: true });
  const clusterSecretFile = ensureClusterSecretFile(path.join(dataDir, 'cluster.secret'));
  const secure = options.secure ? makeSecure(options, dataDir) : undefined;
  // A secure cluster is another cluster: its nodes are closed to the plain one's processes, its replicas keep their own data.
  const cluster = secure === undefined ? undefined : 'secure';
  const replicaDir = secure === undefined ? path.join(dataDir, 'replicas') : path.join(dataDir, 'secure', 'replicas');
  const zkAuthFile = secure?.zkAuthFile ?? options.zkAuthFile;
  const replicas = layout(options);
  for (const port of [options.port, ...replicas.map((replica) => replica.port)]) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} is in use (is another \`npm start\` running?); see --help for the port flags`);
  }

  const started = new Started();
  let interrupted = false;
  const shutdown = (signal: string): void => {
    if (interrupted) {
      console.error(`${signal} again: killing everything`);
      for (const child of [...started.gates, ...started.servers]) child.signal('SIGKILL');
      process.exit(1);
    }
    interrupted = true;
    console.log(`\n${signal}: stopping the cluster...`);
    void started.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    // Every child runs in its own process group: Ctrl-C reaches only this
    // process, which stops them in order (a replica whose ZooKeeper vanished
    // first would have to wait out its session).
    const ownProcessGroup = true;
    const zookeeper =
      options.zkEnsemble > 1
        ? await startLocalEnsemble({ size: options.zkEnsemble, clientPort: options.zkPort, dataDir: path.join(dataDir, 'zookeeper-ensemble'), ownProcessGroup })
        : ensembleOf([await startOrAttachZooKeeper({ port: options.zkPort, dataDir: path.join(dataDir, 'zookeeper'), ownProcessGroup })]);
    started.zookeeper = zookeeper;
    console.log(`ZooKeeper ${zookeeper.members[0].owned ? 'started' : 'reused'} on ${zookeeper.connectString}`);
    if (zookeeper.members.length > 1) started.stopSupervising = superviseEnsemble(zookeeper, (line) => console.log(line));
    // Started together, and each watched as soon as it is up, so that a failed
    // start still stops the ones that did start.
    const starts = await Promise.allSettled(
      replicas.map(async (replica) => {
        const server = await startKvServer({
          zk: zookeeper.connectString,
          partition: replica.partition,
          id: replica.id,
          port: replica.port,
          cluster,
          clusterSecretFile,
          zkAuthFile,
          tls: secure?.tls,
          // A replica's public port checks the gate's users too, or a self-routing client would walk around them.
          extraArgs: secure === undefined ? [] : ['--auth', 'on'],
          dataDir: path.join(replicaDir, replica.id),
          logFile: path.join(logDir, `${replica.id}.log`),
          ownProcessGroup,
        });
        started.watch(server, 'server');
        replica.pid = server.pid;
      }),
    );
    const failure = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
    if (failure) throw failure.reason;
    console.log(`started ${replicas.length} replicas`);
    const gate = await startKvGate({
      zk: zookeeper.connectString,
      port: options.port,
      cluster,
      clusterSecretFile,
      zkAuthFile,
      tls: secure?.tls,
      extraArgs: secure === undefined ? [] : ['--auth', 'on', '--auth-bootstrap-token-file', secure.tokenFile],
      logFile: path.join(logDir, 'kvgate.log'),
      ownProcessGroup,
    });
    started.watch(gate, 'gate');
    const expected = new Map<string, string[]>();
    for (const replica of replicas) expected.set(replica.partition, [...(expected.get(replica.partition) ?? []), replica.id]);
    const gateUrl = `${secure === undefined ? 'http' : 'https'}://127.0.0.1:${options.port}`;
    if (secure !== undefined) await waitFor(() => fs.existsSync(secure.tokenFile), { timeoutMs: 30_000, what: `the gate to write ${secure.tokenFile}` });
    const token = () => (secure === undefined ? undefined : fs.readFileSync(secure.tokenFile, 'utf8').trim());
    await waitForSettledCluster(gateUrl, { partitions: expected }, 60_000, token);
    console.log(banner(options, await ensembleBanner(zookeeper), await ensembleKillHint(zookeeper), replicas, logDir, clusterSecretFile, secure));
  } catch (error) {
    if (interrupted) return;
    console.error(`could not start the cluster: ${(error as Error).message}`);
    console.error(`logs are in ${logDir}`);
    await started.stop();
    process.exit(1);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
