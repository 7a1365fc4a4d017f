import { Counter, Gauge, type Registry } from 'prom-client';
import type { ZkClient, ZkSessionOptions } from '../zk/session';

/** Where a process's ZooKeeper session stands: one of these is 1, the others 0. */
export const ZK_SESSION_STATES = ['connecting', 'connected', 'disconnected', 'expired', 'closed'] as const;
export type ZkSessionState = (typeof ZK_SESSION_STATES)[number];

type Connect = (connectString: string, options: ZkSessionOptions) => Promise<ZkClient>;

/**
 * `kvstore_zookeeper_session_state{state}` and
 * `kvstore_zookeeper_session_events_total{event}`, fed by the events of the
 * sessions `connect` opens: wrap the connect function a process already
 * uses. Only the newest session counts; events of a replaced one are
 * ignored.
 */
export class ZkSessionMetrics {
  private state: ZkSessionState = 'connecting';
  private current: ZkClient | undefined;
  private readonly events: Counter<'event'>;

  constructor(registry: Registry) {
    const self = this;
    new Gauge({
      name: 'kvstore_zookeeper_session_state',
      help: 'State of this process\'s ZooKeeper session: 1 for the current state, 0 for the others',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const state = self.current?.isClosed && self.state === 'connected' ? 'closed' : self.state;
        for (const name of ZK_SESSION_STATES) this.set({ state: name }, name === state ? 1 : 0);
      },
    });
    this.events = new Counter({
      name: 'kvstore_zookeeper_session_events_total',
      help: 'ZooKeeper session events seen: connected (a new session or the connection back), disconnected, expired',
      labelNames: ['event'],
      registers: [registry],
    });
  }

  /** `connect`, with every session it opens tracked. */
  wrap(connect: Connect): Connect {
    return async (connectString, options) => {
      this.current = undefined;
      this.state = 'connecting';
      const session = await connect(connectString, options);
      this.track(session);
      return session;
    };
  }

  /** Follows `session` from now on (it is connected). */
  track(session: ZkClient): void {
    this.current = session;
    this.set(session, 'connected');
    session.on('connected', () => this.set(session, 'connected'));
    session.on('disconnected', () => this.set(session, 'disconnected'));
    session.on('expired', () => this.set(session, 'expired'));
  }

  private set(session: ZkClient, state: ZkSessionState): void {
    if (session !== this.current) return;
    this.state = state;
    this.events.inc({ event: state });
  }
}
