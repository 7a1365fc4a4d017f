import { ensembleLeader, isPortFree, startZooKeeperEnsemble, zooKeeperMode, type ZooKeeperEnsemble } from '@kvstore/testkit/harness';

/** Member i listens for clients on clientPort + i and for its peers on these offsets from there (2181 → 2888, 3888). */
const PEER_PORT_OFFSET = 707;
const ELECTION_PORT_OFFSET = 1707;
/** How long a killed member stays down before `npm start` brings it back: time to watch the cluster without it. */
const RESTART_AFTER_MS = 5000;
const SUPERVISE_EVERY_MS = 1000;

export interface LocalEnsembleOptions {
  size: number;
  clientPort: number;
  /** Member i keeps its data in <dataDir>/zk<i + 1>. */
  dataDir: string;
  ownProcessGroup: boolean;
}

/** Starts `size` members on the loopback ports above; refuses, naming the port, when one is taken. */
export async function startLocalEnsemble(options: LocalEnsembleOptions): Promise<ZooKeeperEnsemble> {
  const range = (offset: number): number[] => Array.from({ length: options.size }, (_, index) => options.clientPort + offset + index);
  const ports = { clientPorts: range(0), peerPorts: range(PEER_PORT_OFFSET), electionPorts: range(ELECTION_PORT_OFFSET) };
  for (const port of [...ports.clientPorts, ...ports.peerPorts, ...ports.electionPorts]) {
    if (port > 65535 || !(await isPortFree(port))) {
      throw new Error(`port ${port} is ${port > 65535 ? 'out of range' : 'in use'}: a ${options.size}-node ensemble takes ports ${options.clientPort}+i, +${PEER_PORT_OFFSET}+i and +${ELECTION_PORT_OFFSET}+i (see --zk-port)`);
    }
  }
  return startZooKeeperEnsemble({ dataDir: options.dataDir, ports, ownProcessGroup: options.ownProcessGroup });
}

/**
 * Restarts a member that died (someone ran `kill -9` on it, to watch the
 * cluster ride it out) RESTART_AFTER_MS later, and says so. Returns the
 * function that stops supervising, before the ensemble is stopped.
 */
export function superviseEnsemble(ensemble: ZooKeeperEnsemble, log: (line: string) => void): () => void {
  const restarting = new Set<number>();
  const timers = new Set<NodeJS.Timeout>();
  const check = setInterval(() => {
    ensemble.members.forEach((member, index) => {
      if (member.running || restarting.has(index)) return;
      restarting.add(index);
      log(`\n!! ZooKeeper member zk${index + 1} (${member.connectString}) is down; the other ${ensemble.members.length - 1} serve. Restarting it in ${RESTART_AFTER_MS / 1000} s.`);
      const timer = setTimeout(() => {
        timers.delete(timer);
        member.restart().then(
          async () => log(`ZooKeeper member zk${index + 1} is back: pid ${member.pid}, ${(await zooKeeperMode('127.0.0.1', member.port)) ?? 'not serving yet'}`),
          (error: Error) => log(`!! could not restart ZooKeeper member zk${index + 1}: ${error.message}`),
        ).finally(() => restarting.delete(index));
      }, RESTART_AFTER_MS);
      timers.add(timer);
    });
  }, SUPERVISE_EVERY_MS);
  return () => {
    clearInterval(check);
    for (const timer of timers) clearTimeout(timer);
  };
}

/** The banner's ZooKeeper lines: the connect string, and each member of an ensemble with its role and pid. */
export async function ensembleBanner(ensemble: ZooKeeperEnsemble): Promise<string[]> {
  const [first] = ensemble.members;
  if (ensemble.members.length === 1) return [`  ZooKeeper  ${first.connectString}${first.owned ? '' : ' (already running; left as it is on exit)'}`];
  const modes = await Promise.all(ensemble.members.map((member) => zooKeeperMode('127.0.0.1', member.port)));
  return [
    `  ZooKeeper  ${ensemble.connectString}  (a ${ensemble.members.length}-node ensemble)`,
    ...ensemble.members.map(
      (member, index) => `    zk${index + 1}      ${member.connectString}  (${modes[index] ?? 'not serving'}, pid ${member.pid}, data ${member.dataDir})`,
    ),
  ];
}

/** The banner's suggestion to kill the ensemble's leader (the harder case: the others elect a new one); none for a single server. */
export async function ensembleKillHint(ensemble: ZooKeeperEnsemble): Promise<string[]> {
  if (ensemble.members.length === 1) return [];
  const leader = ensemble.members[(await ensembleLeader(ensemble)) ?? 0];
  return [`  kill -9 ${leader.pid}   # the ZooKeeper leader: the others elect one and the cluster stays available; back in ${RESTART_AFTER_MS / 1000} s`];
}
