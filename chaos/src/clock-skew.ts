import { Random } from './random';

/**
 * Seeded clock offsets for replicas p<i>-r<j>: each partition's replicas
 * spread evenly over [−skewMs, +skewMs] in a seeded order, so that every
 * failover can move to a clock far from the old leader's (with three
 * replicas: −skewMs, 0, +skewMs). Empty when skewMs is 0.
 */
export function clockOffsets(seed: number, partitions: number, replicas: number, skewMs: number): Map<string, number> {
  const offsets = new Map<string, number>();
  if (skewMs === 0) return offsets;
  const rng = Random.stream(seed, 'clocks');
  for (let p = 0; p < partitions; p++) {
    const spread = Array.from({ length: replicas }, (_, r) => (replicas === 1 ? 0 : Math.round(-skewMs + (2 * skewMs * r) / (replicas - 1))));
    rng.shuffle(spread).forEach((offset, r) => offsets.set(`p${p}-r${r + 1}`, offset));
  }
  return offsets;
}
