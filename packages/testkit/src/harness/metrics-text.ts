/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape: every sample, and the TYPE each metric family declared. */
export interface MetricsScrape {
  samples: MetricSample[];
  types: Map<string, string>;
  /** The sum of the samples named `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`bad labels in metrics line: ${line}`);
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // prom-client writes "Nan" (an empty event-loop-lag histogram's mean, say); Prometheus reads any case (Go's ParseFloat).
  if (/^nan$/i.test(text)) return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value in metrics line: ${line}`);
  return value;
}

/** Parses Prometheus text format strictly: any line it cannot read throws. */
export function parseMetricsText(text: string): MetricsScrape {
  const samples: MetricSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else if (!/^# HELP \S+/.test(line)) throw new Error(`bad comment in metrics: ${line}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`bad metrics line: ${line}`);
    samples.push({ name: match[1]!, labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3]!, line) });
  }
  return {
    samples,
    types,
    sum: (name, labels = {}) =>
      samples
        .filter((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
        .reduce((total, sample) => total + sample.value, 0),
  };
}

/** `GET <baseUrl>/metrics` (with `token` as a bearer token, for a process with --auth on), parsed; throws unless it answers 200 in Prometheus text format. */
export async function scrapeMetrics(baseUrl: string, token?: string): Promise<MetricsScrape> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(`${baseUrl}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${baseUrl}/metrics answered ${response.status}: ${text.slice(0, 200)}`);
  if (!(response.headers.get('content-type') ?? '').startsWith('text/plain')) throw new Error(`${baseUrl}/metrics is not text/plain`);
  return parseMetricsText(text);
}
