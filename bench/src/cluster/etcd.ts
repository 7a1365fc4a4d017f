import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tracked } from './cpu';
import { HeldPorts, ManagedProcess, waitFor } from '@kvstore/testkit/harness';
import type { Stoppable } from './lifecycle';

/** Debian's etcd-server package (3.4 on bookworm). */
const ETCD_BINARY = '/usr/bin/etcd';

export function etcdInstalled(): boolean {
  return fs.existsSync(ETCD_BINARY);
}

interface Member {
  name: string;
  clientUrl: string;
  process: ManagedProcess;
}

/** POST to etcd's JSON gateway (/v3/...), answer parsed. */
async function gateway<T>(clientUrl: string, call: string, body: object): Promise<T> {
  const response = await fetch(`${clientUrl}/v3/${call}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(2000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`etcd ${call} at ${clientUrl} answered ${response.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/**
 * An etcd cluster of 1 or 3 members on 127.0.0.1 (static initial-cluster
 * config), with data under `dir`: the reference for the kvstore rows. Its
 * default durability (an fsync per raft batch) matches kvstore's fsync on.
 */
export class Etcd implements Stoppable {
  private readonly members: Member[] = [];
  private leaderUrl = '';

  /** The leader's client url: the load goes there, as kvstore's direct rows go to the partition leader. */
  get url(): string {
    return this.leaderUrl;
  }

  /** Starts it and waits for a leader; `onStarted` sees it first, so that a failed start is still stopped. */
  static async start(size: number, dir: string, onStarted: (etcd: Etcd) => void): Promise<Etcd> {
    const etcd = new Etcd();
    onStarted(etcd);
    const held = await HeldPorts.hold(2 * size);
    const names = Array.from({ length: size }, (_, i) => `m${i}`);
    const ports = held.ports;
    const peerUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i + 1]}`;
    const clientUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i]}`;
    const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',');
    const token = `bench-${process.pid}-${Date.now()}`;
    await held.releaseAll();
    for (const [i, name] of names.entries()) {
      const args = [
        '--name', name,
        '--data-dir', path.join(dir, name),
        '--listen-client-urls', clientUrl(i),
        '--advertise-client-urls', clientUrl(i),
        '--listen-peer-urls', peerUrl(i),
        '--initial-advertise-peer-urls', peerUrl(i),
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        '--logger', 'zap',
        '--log-level', 'warn',
      ];
      const child = await ManagedProcess.start({ name: `etcd ${name}`, command: ETCD_BINARY, args, logFile: path.join(dir, `${name}.log`), ownProcessGroup: true });
      etcd.members.push({ name, clientUrl: clientUrl(i), process: child });
    }
    // Every member has to be up before any answers: a raft cluster needs its quorum to elect a leader.
    const outcome = await waitFor(
      async (): Promise<{ dead: Member } | { leader: Member } | undefined> => {
        const dead = etcd.members.find((member) => !member.process.running);
        if (dead) return { dead };
        for (const member of etcd.members) {
          const status = await gateway<{ header: { member_id: string }; leader: string }>(member.clientUrl, 'maintenance/status', {});
          if (status.header.member_id === status.leader) return { leader: member };
        }
        return undefined;
      },
      { timeoutMs: 30_000, what: `an etcd cluster of ${size} to elect a leader` },
    );
    if ('dead' in outcome) throw new Error(`etcd ${outcome.dead.name} ${outcome.dead.process.describeExit()}:\n${outcome.dead.process.logTail(10)}`);
    etcd.leaderUrl = outcome.leader.clientUrl;
    return etcd;
  }

  /** Its members, the one the load goes to as the leader. */
  tracked(): Promise<Tracked[]> {
    return Promise.resolve(this.members.map((member) => ({ pid: member.process.pid, kind: member.clientUrl === this.leaderUrl ? 'leader' : 'followers' })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.process.stop()));
  }
}
