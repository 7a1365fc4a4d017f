import { startCpuMeter, type CpuSeconds } from './cpu';
import type { KvCluster } from './kvcluster';

/**
 * CPU time of a cluster's processes per phase of the resharding scenario,
 * from when the bench sees each phase begin (it reads the gate's view every
 * 100 ms) to when it sees the next.
 */
export class CpuByPhase {
  private readonly used = new Map<string, CpuSeconds>();
  private phase: string | undefined;
  private stop: (() => CpuSeconds) | undefined;

  constructor(private readonly cluster: KvCluster) {}

  /** Ends the count of the phase before; counts `phase` (none: stop) from when the processes are known. */
  enter(phase: string | undefined): void {
    if (this.phase === phase) return;
    if (this.phase && this.stop) this.used.set(this.phase, this.stop());
    this.phase = phase;
    this.stop = undefined;
    if (!phase) return;
    void this.cluster.tracked().then(
      (processes) => {
        if (this.phase === phase) this.stop = startCpuMeter(processes);
      },
      () => undefined,
    );
  }

  of(phase: string): CpuSeconds | undefined {
    return this.used.get(phase);
  }
}
