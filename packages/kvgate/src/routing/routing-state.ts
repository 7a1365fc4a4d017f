import { EventEmitter } from 'node:events';
import { RoutingTable } from './routing-table';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from './snapshot';

/** What the forwarder needs from the topology: the current table and a way to wait for the next one. */
export interface RouteSource {
  table(): RoutingTable;
  /** Resolves at the next change of the table, or after `timeoutMs`, whichever comes first. */
  changed(timeoutMs: number): Promise<void>;
}

/**
 * Holds the latest snapshot and the table built from it. The watcher calls
 * `update` on every ZooKeeper event; requests waiting for a leader or a newer
 * ring wake up on the `change` event instead of polling.
 */
export class RoutingState extends EventEmitter implements RouteSource {
  private currentSnapshot: ClusterSnapshot = EMPTY_SNAPSHOT;
  private currentTable = new RoutingTable(EMPTY_SNAPSHOT);

  constructor() {
    super();
    // Every waiting request adds a listener for as long as it waits.
    this.setMaxListeners(0);
  }

  snapshot(): ClusterSnapshot {
    return this.currentSnapshot;
  }

  table(): RoutingTable {
    return this.currentTable;
  }

  update(snapshot: ClusterSnapshot): void {
    this.currentSnapshot = snapshot;
    this.currentTable = new RoutingTable(snapshot);
    this.emit('change', snapshot);
  }

  changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('change', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.on('change', done);
    });
  }
}
