import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ManagedProcess } from './managed-process';
import { waitFor } from './wait';
import { ensureZooKeeperInstalled, type ZooKeeperInstallation } from './zookeeper-install';

export interface ZooKeeperHandle {
  /** "127.0.0.1:<port>", for --zk. */
  readonly connectString: string;
  readonly port: number;
  /** Holds zoo.cfg, zookeeper.log and the data; undefined for one we did not start. */
  readonly dataDir: string | undefined;
  /** Undefined for one we did not start. */
  readonly pid: number | undefined;
  /** False once the process we started has exited (killed, say) and until it is restarted; true for one we did not start. */
  readonly running: boolean;
  /** True when this process started it (and so may stop, kill or restart it). */
  readonly owned: boolean;
  /** SIGTERM, then SIGKILL after a bound; does nothing for one we did not start. */
  stop(): Promise<void>;
  /** SIGKILL: every session is lost without a goodbye. */
  kill(): Promise<void>;
  /** SIGSTOP: it keeps its connections open and answers nothing, peers included; resume() undoes it. */
  pause(): void;
  resume(): void;
  /** Stops it if it runs, then starts it again on the same port with the same data. */
  restart(): Promise<void>;
}

/** One member of an ensemble, as every member's zoo.cfg lists it (`server.<id>=127.0.0.1:<peerPort>:<electionPort>`). */
export interface QuorumServer {
  id: number;
  peerPort: number;
  electionPort: number;
}

export interface StartZooKeeperOptions {
  port: number;
  dataDir: string;
  /** A member of an ensemble: its own id and every member (itself included); absent for a standalone server. */
  quorum?: { myid: number; servers: readonly QuorumServer[] };
  /** Bound on the wait for it to serve (default 30000 ms: a cold JVM on a busy CI machine). */
  startTimeoutMs?: number;
  /** See ProcessSpec.ownProcessGroup. */
  ownProcessGroup?: boolean;
}

const STOP_TIMEOUT_MS = 5000;

/** Sends a four-letter command ("srvr", "ruok", ...) and returns the whole answer. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer to "${word}" from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** What `srvr` says the server is ("leader", "follower", "standalone"), or undefined while it does not serve. */
export async function zooKeeperMode(host: string, port: number): Promise<string | undefined> {
  try {
    return /^Mode: (\S+)/m.exec(await fourLetterWord(host, port, 'srvr'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * True when a ZooKeeper serves clients there. `srvr` reports a `Mode:` only
 * once the server accepts sessions, whereas `ruok` answers before that.
 */
export async function isZooKeeperServing(host: string, port: number): Promise<boolean> {
  return (await zooKeeperMode(host, port)) !== undefined;
}

/**
 * An ensemble member's lines: a follower that loses its leader (its socket
 * closes at once when the leader is killed) looks for a new one, and
 * initLimit/syncLimit (in ticks) bound how long a follower may take to sync
 * and may fall behind. The id file names the member.
 */
function quorumConfig(options: StartZooKeeperOptions): string[] {
  if (!options.quorum) return [];
  fs.writeFileSync(path.join(options.dataDir, 'myid'), `${options.quorum.myid}\n`);
  return [
    'initLimit=20',
    'syncLimit=4',
    ...options.quorum.servers.map((server) => `server.${server.id}=127.0.0.1:${server.peerPort}:${server.electionPort}`),
  ];
}

function writeConfig(options: StartZooKeeperOptions): string {
  // tickTime 500 ms makes session expiry (checked once per tick) prompt, which
  // failover tests depend on; the session bounds are set explicitly so that
  // clients may ask for anything from 1 s to 30 s.
  const config = [
    'tickTime=500',
    'minSessionTimeout=1000',
    'maxSessionTimeout=30000',
    `dataDir=${options.dataDir}`,
    `clientPort=${options.port}`,
    'clientPortAddress=127.0.0.1',
    // The admin server would bind :8080; the four-letter words are enough.
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    // A throwaway development server: no 64 MB log preallocation, and no
    // fsync (a killed process still leaves its writes in the page cache).
    'preAllocSize=1024',
    'forceSync=no',
    'autopurge.purgeInterval=1',
    ...quorumConfig(options),
  ];
  const file = path.join(options.dataDir, 'zoo.cfg');
  fs.writeFileSync(file, `${config.join('\n')}\n`);
  return file;
}

async function launch(installation: ZooKeeperInstallation, options: StartZooKeeperOptions): Promise<ManagedProcess> {
  if (await isZooKeeperServing('127.0.0.1', options.port)) {
    throw new Error(`a ZooKeeper already serves on 127.0.0.1:${options.port}`);
  }
  const child = await ManagedProcess.start({
    name: `zookeeper :${options.port}`,
    command: installation.java,
    // A small serial-collected heap and the quick JIT tier: ZooKeeper here
    // holds a few hundred nodes, and CI machines have two cores.
    args: [
      '-Xms32m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.showDateTime=true',
      '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
      '-cp',
      installation.classpath,
      options.quorum ? 'org.apache.zookeeper.server.quorum.QuorumPeerMain' : 'org.apache.zookeeper.server.ZooKeeperServerMain',
      writeConfig(options),
    ],
    logFile: path.join(options.dataDir, 'zookeeper.log'),
    ownProcessGroup: options.ownProcessGroup,
  });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const outcome = await waitFor(
    async () => (!child.running ? 'exited' : (await isZooKeeperServing('127.0.0.1', options.port)) && 'serving'),
    { timeoutMs, what: `ZooKeeper to serve on 127.0.0.1:${options.port}` },
  ).catch(async (error: Error) => {
    await child.kill();
    return error.message;
  });
  if (outcome !== 'serving') {
    const reason = outcome === 'exited' ? `ZooKeeper ${child.describeExit()} on start` : outcome;
    throw new Error(`${reason}\n--- ${child.logFile} (last lines):\n${child.logTail()}`);
  }
  return child;
}

/**
 * Starts a ZooKeeper on 127.0.0.1:<port>, installing it first if need be (and
 * allowed): standalone, or a member of an ensemble (`quorum`), which serves
 * only once a majority of the members runs (see startZooKeeperEnsemble).
 */
export async function startZooKeeper(options: StartZooKeeperOptions): Promise<ZooKeeperHandle> {
  const installation = await ensureZooKeeperInstalled();
  fs.mkdirSync(options.dataDir, { recursive: true });
  let child = await launch(installation, options);
  const stop = async (): Promise<void> => {
    await child.stop(STOP_TIMEOUT_MS);
  };
  return {
    connectString: `127.0.0.1:${options.port}`,
    port: options.port,
    dataDir: options.dataDir,
    get pid() {
      return child.pid;
    },
    get running() {
      return child.running;
    },
    owned: true,
    stop,
    kill: async () => {
      await child.kill();
    },
    pause: () => child.pause(),
    resume: () => child.resume(),
    restart: async () => {
      await stop();
      child = await launch(installation, options);
    },
  };
}

/** A handle on a ZooKeeper someone else runs: we use it, but never stop it. */
export function attachZooKeeper(connectString: string): ZooKeeperHandle {
  const match = /^(.+):(\d+)$/.exec(connectString);
  if (!match) throw new Error(`not a host:port ZooKeeper address: ${connectString}`);
  const notOursError = (): Error =>
    new Error(`the ZooKeeper at ${connectString} was not started by this process; start a private one to kill, pause or restart it`);
  const notOurs = (): Promise<void> => Promise.reject(notOursError());
  const refuse = (): void => {
    throw notOursError();
  };
  return {
    connectString,
    port: Number(match[2]),
    dataDir: undefined,
    pid: undefined,
    running: true,
    owned: false,
    stop: () => Promise.resolve(),
    kill: notOurs,
    pause: refuse,
    resume: refuse,
    restart: notOurs,
  };
}

/** Uses the ZooKeeper already serving on 127.0.0.1:<port>, or starts one there. */
export async function startOrAttachZooKeeper(options: StartZooKeeperOptions): Promise<ZooKeeperHandle> {
  if (await isZooKeeperServing('127.0.0.1', options.port)) return attachZooKeeper(`127.0.0.1:${options.port}`);
  return startZooKeeper(options);
}
