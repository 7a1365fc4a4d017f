import * as path from 'node:path';
import { HeldPorts } from './ports';
import { startZooKeeper, zooKeeperMode, type QuorumServer, type ZooKeeperHandle } from './zookeeper';

/**
 * ZooKeeper servers that clients reach as one: a 3-node ensemble, or a single
 * standalone server seen as an ensemble of one (ensembleOf), so that code
 * which kills or restarts ZooKeeper need not tell the two apart.
 */
export interface ZooKeeperEnsemble {
  /** Every member's "127.0.0.1:<port>", comma-separated: the --zk of the servers and gates. */
  readonly connectString: string;
  /** In id order: member i has `myid` i + 1. */
  readonly members: readonly ZooKeeperHandle[];
  /** Stops every member (in parallel). */
  stop(): Promise<void>;
  /** SIGKILLs every member. */
  kill(): Promise<void>;
  /** Restarts every member, in parallel: a member serves only once a majority runs. */
  restart(): Promise<void>;
}

export interface EnsemblePorts {
  /** One per member; their count is the ensemble's size. */
  clientPorts: readonly number[];
  /** Where the leader listens for its followers (one per member). */
  peerPorts: readonly number[];
  /** Where the members elect the leader (one per member). */
  electionPorts: readonly number[];
}

export interface StartZooKeeperEnsembleOptions {
  /** Member i (id i + 1) keeps its zoo.cfg, myid, log and data in <dataDir>/zk<i + 1>. */
  dataDir: string;
  /** Number of members (default 3), when `ports` is not given. */
  size?: number;
  /** Default: free loopback ports. */
  ports?: EnsemblePorts;
  /** See StartZooKeeperOptions. */
  startTimeoutMs?: number;
  ownProcessGroup?: boolean;
}

/** Sees `members` as one ensemble; stop, kill and restart act on all of them at once. */
export function ensembleOf(members: readonly ZooKeeperHandle[]): ZooKeeperEnsemble {
  const all = async (act: (member: ZooKeeperHandle) => Promise<void>): Promise<void> => {
    await Promise.all(members.map(act));
  };
  return {
    connectString: members.map((member) => member.connectString).join(','),
    members,
    stop: () => all((member) => member.stop()),
    kill: () => all((member) => member.kill()),
    restart: () => all((member) => member.restart()),
  };
}

/** The index of the member that leads the ensemble now, or undefined (none does: an election runs). */
export async function ensembleLeader(ensemble: ZooKeeperEnsemble): Promise<number | undefined> {
  const modes = await Promise.all(ensemble.members.map((member) => zooKeeperMode('127.0.0.1', member.port)));
  const index = modes.findIndex((mode) => mode === 'leader' || mode === 'standalone');
  return index < 0 ? undefined : index;
}

async function freeEnsemblePorts(size: number): Promise<EnsemblePorts> {
  // Released at once: ZooKeeper binds them itself, and a member restarts on the same ones.
  const held = await HeldPorts.hold(3 * size);
  const ports = held.ports;
  await held.releaseAll();
  return { clientPorts: ports.slice(0, size), peerPorts: ports.slice(size, 2 * size), electionPorts: ports.slice(2 * size) };
}

/**
 * Starts an ensemble on loopback, installing ZooKeeper first if need be: one
 * process per member, each with its own data dir and `myid`, all started
 * together (a member alone waits for a majority), resolving once every
 * member serves. A member that fails to start takes the others down with it.
 */
export async function startZooKeeperEnsemble(options: StartZooKeeperEnsembleOptions): Promise<ZooKeeperEnsemble> {
  const ports = options.ports ?? (await freeEnsemblePorts(options.size ?? 3));
  const size = ports.clientPorts.length;
  if (size < 1 || ports.peerPorts.length !== size || ports.electionPorts.length !== size) {
    throw new Error(`an ensemble needs a client, peer and election port per member (got ${ports.clientPorts.length}, ${ports.peerPorts.length}, ${ports.electionPorts.length})`);
  }
  const servers: QuorumServer[] = ports.clientPorts.map((_, index) => ({
    id: index + 1,
    peerPort: ports.peerPorts[index],
    electionPort: ports.electionPorts[index],
  }));
  const starts = await Promise.allSettled(
    servers.map((server, index) =>
      startZooKeeper({
        port: ports.clientPorts[index],
        dataDir: path.join(options.dataDir, `zk${server.id}`),
        quorum: { myid: server.id, servers },
        startTimeoutMs: options.startTimeoutMs,
        ownProcessGroup: options.ownProcessGroup,
      }),
    ),
  );
  const started = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
  const failure = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((member) => member.kill()));
    throw failure.reason;
  }
  return ensembleOf(started);
}
