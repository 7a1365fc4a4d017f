/**
 * A value built at most once per `maxAgeMs`, however many callers ask:
 * callers within that time of the last build's start share its result,
 * and callers while a build runs wait for it (single flight), however long
 * it takes. A failed build is not kept: the next caller builds again.
 */
export class CachedValue<T> {
  private last: { startedAt: number; settled: boolean; value: Promise<T> } | undefined;

  constructor(
    private readonly build: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const now = this.now();
    const last = this.last;
    if (last && (!last.settled || now - last.startedAt < this.maxAgeMs)) return last.value;
    const entry = { startedAt: now, settled: false, value: this.build() };
    this.last = entry;
    entry.value.then(
      () => {
        entry.settled = true;
      },
      () => {
        entry.settled = true;
        if (this.last === entry) this.last = undefined;
      },
    );
    return entry.value;
  }
}
