import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Counters and histograms for the data path. prom-client's own hash and
 * check the labels on every call (a label child too) and allocate as they
 * go: about a microsecond a request. These keep one plain cell per set of
 * label values, made on first use and then held by the caller, so a request
 * costs a few additions; the registry reads the cells when scraped, in
 * prom-client's own format (a web view may call `get()` like on any
 * prom-client histogram).
 */

interface FastConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers: Registry[];
}

type Values = Awaited<ReturnType<Histogram['get']>>['values'];
type Described = Omit<Awaited<ReturnType<Histogram['get']>>, 'values'>;

/** What prom-client's constructor set on `metric` (and its typings leave out), with `values`: the shape its registry reads. */
function described<V>(metric: object, values: V[]): Described & { values: V[] } {
  const { name, help, type, aggregator } = metric as Described;
  // As prom-client's own get() answers: no collect function in it.
  return { name, help, type, aggregator, values } as Described & { values: V[] };
}

function cellKey(values: readonly string[]): string {
  return values.join('\u0000');
}

function labelsOf<L extends string>(names: readonly L[], values: readonly string[]): Partial<Record<L, string>> {
  const labels: Partial<Record<L, string>> = {};
  names.forEach((name, index) => (labels[name] = values[index]!));
  return labels;
}

export class CounterCell {
  value = 0;

  inc(amount = 1): void {
    this.value += amount;
  }
}

export class HistogramCell {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
  }
}

export class FastCounter<L extends string = string> extends Counter<L> {
  private readonly cells = new Map<string, { values: readonly string[]; cell: CounterCell }>();
  private readonly names: readonly L[];

  constructor(config: FastConfig<L>) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames ?? [], registers: config.registers });
    this.names = config.labelNames ?? [];
  }

  /** The cell of one set of label values, in labelNames order; keep it rather than asking again per event. */
  cell(...values: string[]): CounterCell {
    const key = cellKey(values);
    let entry = this.cells.get(key);
    if (!entry) {
      entry = { values, cell: new CounterCell() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  override get(): ReturnType<Counter<L>['get']> {
    return Promise.resolve(described(this, [...this.cells.values()].map(({ values, cell }) => ({ labels: labelsOf(this.names, values), value: cell.value }))));
  }

  getForPromString(): ReturnType<Counter<L>['get']> {
    return this.get();
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor resets before this class's fields exist.
    if (this.cells === undefined) return;
    for (const { cell } of this.cells.values()) cell.value = 0;
  }
}

export class FastHistogram<L extends string = string> extends Histogram<L> {
  private readonly cells = new Map<string, { values: readonly string[]; cell: HistogramCell }>();
  private readonly names: readonly L[];
  private readonly bounds: readonly number[];

  constructor(config: FastConfig<L> & { buckets: readonly number[] }) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames ?? [], buckets: [...config.buckets], registers: config.registers });
    this.names = config.labelNames ?? [];
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  /** The cell of one set of label values, in labelNames order; keep it rather than asking again per event. */
  cell(...values: string[]): HistogramCell {
    const key = cellKey(values);
    let entry = this.cells.get(key);
    if (!entry) {
      entry = { values, cell: new HistogramCell(this.bounds) };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  override get(): ReturnType<Histogram<L>['get']> {
    const { name } = described(this, []);
    const bucketName = `${name}_bucket`;
    const values: Values = [];
    for (const { values: labelValues, cell } of this.cells.values()) {
      const labels = labelsOf(this.names, labelValues);
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += cell.counts[index]!;
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: cell.count, metricName: bucketName });
      values.push({ labels, value: cell.sum, metricName: `${name}_sum` });
      values.push({ labels, value: cell.count, metricName: `${name}_count` });
    }
    return Promise.resolve(described(this, values));
  }

  getForPromString(): ReturnType<Histogram<L>['get']> {
    return this.get();
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor resets before this class's fields exist.
    if (this.cells === undefined) return;
    for (const { cell } of this.cells.values()) {
      cell.count = 0;
      cell.sum = 0;
      cell.counts.fill(0);
    }
  }
}
