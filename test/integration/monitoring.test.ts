import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Histogram } from '@kvstore/cluster';
import { GateMetrics } from '@kvstore/kvgate';
import { MemoryLog, MemoryStore, ReplicaMetrics } from '@kvstore/kvserver/internal';
import { parse } from 'yaml';

/**
 * The alerting rules, the Grafana dashboard and the Prometheus config in
 * deploy/monitoring/ parse, and every metric their queries name is one the
 * gate or the replica registers: a renamed metric must not leave an alert
 * that can never fire.
 */

const monitoring = path.resolve(__dirname, '..', '..', '..', 'deploy', 'monitoring');
const read = (file: string): string => fs.readFileSync(path.join(monitoring, file), 'utf8');

/** Every series name a process can expose: histograms as their _bucket, _sum and _count. */
function exposedNames(): Set<string> {
  const gate = new GateMetrics({ routingVersion: () => undefined, connections: () => new Map() });
  const replica = new ReplicaMetrics({
    partition: 'p0',
    id: 'p0-r1',
    replica: () => assert.fail('not read unless scraped'),
    log: new MemoryLog(),
    store: new MemoryStore(),
    minInsync: 1,
    records: () => ({ currentRing: undefined, currentMigration: undefined }),
    disk: { file: monitoring, dir: monitoring },
  });
  const names = new Set<string>(['up']);
  for (const registry of [gate.registry, replica.registry]) {
    for (const metric of registry.getMetricsAsArray()) {
      names.add(metric.name);
      if (metric instanceof Histogram) for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

/** The metric names a PromQL expression uses: identifiers that are neither functions, keywords, labels nor strings. */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]');
  const withoutGrouping = withoutStrings.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...withoutGrouping.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((match) => match[1]!)
    .filter((name) => !/^(and|or|unless|bool|offset|le|Inf|NaN)$/.test(name) && !/^\d/.test(name));
}

const names = exposedNames();

test('every metric an alerting rule uses is registered, and each rule says what to do', () => {
  const rules = parse(read('alerts.yml')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string } }> }> };
  const alerts = rules.groups.flatMap((group) => group.rules);
  assert.ok(alerts.length >= 5);
  for (const rule of alerts) {
    assert.match(rule.alert, /^Kvstore[A-Za-z]+$/);
    assert.ok(rule.annotations?.summary, `${rule.alert} has a summary`);
    assert.match(rule.labels?.severity ?? '', /^(critical|warning)$/, `${rule.alert} has a severity`);
    const used = metricsIn(rule.expr);
    assert.ok(used.length > 0, `${rule.alert} uses a metric`);
    for (const name of used) assert.ok(names.has(name), `${rule.alert} uses ${name}, which nothing registers`);
  }
  // What the issue asks alerts for.
  const exprs = alerts.map((rule) => rule.expr).join('\n');
  for (const needed of ['kvstore_replica_role', 'kvstore_replica_min_insync', 'kvstore_replica_follower_lag_seconds', 'kvstore_storage_filesystem_free_bytes', 'kvstore_zookeeper_session_state']) {
    assert.ok(exprs.includes(needed), `an alert on ${needed}`);
  }
});

test('the Grafana dashboard is importable JSON whose every query names registered metrics', () => {
  const dashboard = JSON.parse(read('grafana-dashboard.json')) as { title: string; uid: string; panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }> };
  assert.equal(dashboard.uid, 'kvstore');
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
  assert.ok(queries.length >= 20);
  for (const { panel, expr } of queries) {
    const used = metricsIn(expr);
    assert.ok(used.length > 0, `"${panel}" queries a metric`);
    for (const name of used) assert.ok(names.has(name), `"${panel}" uses ${name}, which nothing registers`);
  }
  // The web view samples this histogram by name; the dashboard shows it per partition.
  assert.ok(queries.some(({ expr }) => expr.includes('kvstore_gate_request_duration_seconds_bucket') && expr.includes('partition')));
});

test('the Prometheus config scrapes gates and replicas and loads the rules', () => {
  const config = parse(read('prometheus.yml')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
  assert.deepEqual(config.rule_files, ['alerts.yml']);
  assert.deepEqual(config.scrape_configs.map((job) => job.job_name).sort(), ['kvstore-gate', 'kvstore-replica']);
  const jobsInAlerts = [...read('alerts.yml').matchAll(/job="([^"]*)"/g)].map((match) => match[1]);
  for (const job of jobsInAlerts) assert.ok(['kvstore-gate', 'kvstore-replica'].includes(job!), `alerts name the configured job ${job}`);
});

test('the README lists every kvstore metric the gate and the replica register, and no other', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const listed = new Set([...readme.matchAll(/^\| `(kvstore_[a-z_]+)` \|/gm)].map((match) => match[1]!));
  const registered = [...names].filter((name) => name.startsWith('kvstore_') && !/_(bucket|sum|count)$/.test(name));
  assert.deepEqual([...listed].sort(), registered.sort());
});
