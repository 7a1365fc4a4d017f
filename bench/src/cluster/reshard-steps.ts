/** One step of the resharding scenario: a partition joins (its replicas start) or leaves (the gate's admin route). */
export interface ReshardStep {
  kind: 'add' | 'remove';
  partition: string;
  /** Partitions that own slots before and after it. */
  from: number;
  to: number;
}

/** "add p2": the step's name in rows and tables. */
export function stepName(step: ReshardStep): string {
  return `${step.kind} ${step.partition}`;
}

/**
 * The steps that take a cluster of p0..p<counts[0]-1> through `counts`
 * (each one more or one fewer than the last). A partition that joins gets
 * a name never used in the run (a removed partition's name stays taken:
 * its replicas would not join again); the one that leaves is the last to
 * have joined, so 2,3,4,3,2 adds p2 and p3, then removes p3 and p2.
 */
export function planSteps(counts: readonly number[]): ReshardStep[] {
  const live = Array.from({ length: counts[0]! }, (_, index) => index);
  let nextIndex = live.length;
  const steps: ReshardStep[] = [];
  for (let index = 1; index < counts.length; index++) {
    const [from, to] = [counts[index - 1]!, counts[index]!];
    if (Math.abs(to - from) !== 1) throw new Error(`a step adds or removes one partition: ${from} to ${to}`);
    if (to > from) {
      live.push(nextIndex);
      steps.push({ kind: 'add', partition: `p${nextIndex++}`, from, to });
    } else steps.push({ kind: 'remove', partition: `p${live.pop()!}`, from, to });
  }
  return steps;
}
