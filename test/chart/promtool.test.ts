import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { createApiMetrics, createOperatorMetrics, createWorkerMetrics } from '@stowage/core';
import { runTool } from '../support/tools.ts';
import { find, ofKind, panelQueries, release, render, withIntervals, type Dashboard } from './chart.ts';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface PrometheusRule extends KubernetesObject {
  spec: { groups: { name: string; rules: Rule[] }[] };
}

/** Every metric name the processes export, histograms with their series suffixes. */
function knownMetrics(): Set<string> {
  const registries = [createApiMetrics(), createWorkerMetrics(), createOperatorMetrics()].map(
    (m) => m.registry,
  );
  const names = registries.flatMap((registry) => registry.getMetricsAsArray().map((metric) => metric.name));
  return new Set(names.flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]));
}

const metricNames = (expr: string) => expr.match(/\bstowage_[a-z0-9_]+/g) ?? [];

describe('alert rules and dashboard queries, checked by promtool', () => {
  let dir: string;
  let rules: PrometheusRule;
  let dashboards: Dashboard[];
  const known = knownMetrics();

  const promtool = async (...args: string[]) => {
    const result = await runTool('promtool', args);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return result.stdout;
  };
  const writeYaml = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content, null, 2)); // JSON is YAML
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chart-promtool-'));
    const objects = await render({ set: ['prometheusRule.enabled=true'] });
    rules = find<PrometheusRule>(objects, 'PrometheusRule', release);
    dashboards = ofKind<V1ConfigMap>(objects, 'ConfigMap').map(
      (map) => JSON.parse(Object.values(map.data!)[0]!) as Dashboard,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the PrometheusRule valid', async () => {
    const out = await promtool('check', 'rules', writeYaml('rules.yml', rules.spec));
    assert.match(out, /SUCCESS: 7 rules found/);
    for (const rule of rules.spec.groups.flatMap((g) => g.rules)) {
      for (const name of metricNames(rule.expr))
        assert.ok(known.has(name), `${rule.alert}: no metric ${name}`);
    }
  });

  it('parses every panel query of every dashboard, naming only metrics that exist', async () => {
    assert.equal(dashboards.length, 4);
    const recording: Rule[] = [];
    for (const dashboard of dashboards) {
      for (const panel of dashboard.panels.filter((p) => !p.panels)) {
        assert.ok(panel.targets?.length, `${dashboard.uid}: "${panel.title}" has no query`);
      }
      for (const query of panelQueries(dashboard)) {
        // A few scrapes' worth, as Grafana would choose.
        const expr = withIntervals(query.expr, '5m');
        assert.doesNotMatch(expr, /\$/, `${dashboard.uid}: "${query.panel}" uses a variable`);
        for (const name of metricNames(expr)) {
          assert.ok(
            known.has(name),
            `${dashboard.uid}: "${query.panel}" queries ${name}, which nothing exports`,
          );
        }
        const record = `dashboard:${dashboard.uid.replaceAll('-', '_')}:panel_${query.id}_${query.refId}`;
        recording.push({ record, expr });
      }
    }
    const out = await promtool(
      'check',
      'rules',
      writeYaml('panels.yml', { groups: [{ name: 'panels', rules: recording }] }),
    );
    assert.match(out, new RegExp(`SUCCESS: ${recording.length} rules found`));
  });

  it('fires each alert when it should, and only then', async () => {
    writeYaml('rules.yml', rules.spec);
    const annotations = (alert: string) =>
      rules.spec.groups[0]!.rules.find((r) => r.alert === alert)!.annotations!;
    const expect = (alert: string, labels: Record<string, string>, summary: string) => ({
      exp_labels: labels,
      exp_annotations: { ...annotations(alert), summary },
    });
    const tests = [
      {
        name: 'quota: a tenant at 95% alerts, one at 10% and one without a quota do not',
        interval: '1m',
        input_series: [
          { series: 'stowage_tenant_used_bytes{tenant="acme"}', values: '95x30' },
          { series: 'stowage_tenant_quota_bytes{tenant="acme"}', values: '100x30' },
          { series: 'stowage_tenant_used_bytes{tenant="tiny"}', values: '10x30' },
          { series: 'stowage_tenant_quota_bytes{tenant="tiny"}', values: '100x30' },
          { series: 'stowage_tenant_used_bytes{tenant="unset"}', values: '10x30' },
          { series: 'stowage_tenant_quota_bytes{tenant="unset"}', values: '0x30' },
        ],
        alert_rule_test: [
          { eval_time: '10m', alertname: 'StowageTenantQuotaNearlyFull', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'StowageTenantQuotaNearlyFull',
            exp_alerts: [
              expect(
                'StowageTenantQuotaNearlyFull',
                { severity: 'warning', tenant: 'acme' },
                'Tenant acme has used 95% of its quota',
              ),
            ],
          },
        ],
      },
      {
        name: 'errors: 10% of requests failing alerts',
        interval: '1m',
        input_series: [
          { series: 'stowage_http_requests_total{route="/upload/:bucket",status="200"}', values: '0+90x30' },
          { series: 'stowage_http_requests_total{route="/upload/:bucket",status="503"}', values: '0+10x30' },
        ],
        alert_rule_test: [
          {
            eval_time: '20m',
            alertname: 'StowageApiErrorRate',
            exp_alerts: [
              expect('StowageApiErrorRate', { severity: 'critical' }, '10% of API requests fail with a 5xx'),
            ],
          },
        ],
      },
      {
        name: 'errors: 1% of requests failing does not alert',
        interval: '1m',
        input_series: [
          { series: 'stowage_http_requests_total{status="200"}', values: '0+99x30' },
          { series: 'stowage_http_requests_total{status="500"}', values: '0+1x30' },
        ],
        alert_rule_test: [{ eval_time: '20m', alertname: 'StowageApiErrorRate', exp_alerts: [] }],
      },
      {
        name: 'backlog: 150 jobs waiting for 20 minutes alerts, while active ones do not count',
        interval: '1m',
        input_series: [
          { series: 'stowage_variant_queue_depth{state="waiting",instance="w1"}', values: '150x30' },
          { series: 'stowage_variant_queue_depth{state="active",instance="w1"}', values: '500x30' },
        ],
        alert_rule_test: [
          {
            eval_time: '20m',
            alertname: 'StowageVariantBacklog',
            exp_alerts: [
              expect('StowageVariantBacklog', { severity: 'warning' }, '150 variant jobs are waiting'),
            ],
          },
        ],
      },
      {
        name: 'webhooks: a backlog growing for half an hour alerts',
        interval: '1m',
        input_series: [{ series: 'stowage_webhook_backlog{instance="w1"}', values: '0+6x60' }],
        alert_rule_test: [
          { eval_time: '30m', alertname: 'StowageWebhookBacklogGrowing', exp_alerts: [] },
          {
            eval_time: '50m',
            alertname: 'StowageWebhookBacklogGrowing',
            exp_alerts: [
              expect(
                'StowageWebhookBacklogGrowing',
                { severity: 'warning' },
                '100m more webhook deliveries pending per second, for 30 minutes',
              ),
            ],
          },
        ],
      },
      {
        name: 'webhooks: a steady or draining backlog does not alert',
        interval: '1m',
        input_series: [
          { series: 'stowage_webhook_backlog{instance="w1"}', values: '500x60' },
          { series: 'stowage_webhook_backlog{instance="w2"}', values: '500-5x60' },
        ],
        alert_rule_test: [{ eval_time: '50m', alertname: 'StowageWebhookBacklogGrowing', exp_alerts: [] }],
      },
      {
        name: 'operator: failing reconciles alert, and no operator at all means no leader',
        interval: '1m',
        input_series: [
          { series: 'stowage_operator_reconcile_errors_total{condition="BucketReady"}', values: '0+1x30' },
        ],
        alert_rule_test: [
          {
            eval_time: '20m',
            alertname: 'StowageOperatorReconcileErrors',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning' },
                exp_annotations: annotations('StowageOperatorReconcileErrors'),
              },
            ],
          },
          {
            eval_time: '10m',
            alertname: 'StowageOperatorNoLeader',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical' },
                exp_annotations: annotations('StowageOperatorNoLeader'),
              },
            ],
          },
        ],
      },
      {
        name: 'operator: one leader among two replicas, reconciling fine, does not alert',
        interval: '1m',
        input_series: [
          { series: 'stowage_operator_is_leader{instance="o1"}', values: '1x30' },
          { series: 'stowage_operator_is_leader{instance="o2"}', values: '0x30' },
          { series: 'stowage_operator_reconcile_errors_total{condition="BucketReady"}', values: '0x30' },
        ],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'StowageOperatorNoLeader', exp_alerts: [] },
          { eval_time: '20m', alertname: 'StowageOperatorReconcileErrors', exp_alerts: [] },
        ],
      },
      {
        name: 'check: findings left in a tenant alert, one series per tenant and kind, whichever replica exports it',
        interval: '1m',
        input_series: [
          {
            series: 'stowage_check_findings{tenant="acme",kind="orphan-object",instance="o1"}',
            values: '3x30',
          },
          {
            series: 'stowage_check_findings{tenant="acme",kind="orphan-object",instance="o2"}',
            values: '3x30',
          },
          {
            series: 'stowage_check_findings{tenant="acme",kind="usage-mismatch",instance="o1"}',
            values: '1x30',
          },
          {
            series: 'stowage_check_findings{tenant="beta",kind="orphan-object",instance="o1"}',
            values: '0x30',
          },
        ],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'StowageConsistencyFindings',
            exp_alerts: [
              expect(
                'StowageConsistencyFindings',
                { severity: 'warning', tenant: 'acme', kind: 'orphan-object' },
                'stowage check found 3 orphan-object in tenant acme',
              ),
              expect(
                'StowageConsistencyFindings',
                { severity: 'warning', tenant: 'acme', kind: 'usage-mismatch' },
                'stowage check found 1 usage-mismatch in tenant acme',
              ),
            ],
          },
        ],
      },
      {
        name: 'check: a clean run (no series left) does not alert',
        interval: '1m',
        input_series: [
          { series: 'stowage_check_findings{tenant="acme",kind="orphan-object"}', values: '3x5 _x25' },
          { series: 'stowage_check_last_run_timestamp_seconds', values: '0+60x30' },
        ],
        alert_rule_test: [{ eval_time: '20m', alertname: 'StowageConsistencyFindings', exp_alerts: [] }],
      },
    ];
    const out = await promtool(
      'test',
      'rules',
      writeYaml('rules.test.yml', { rule_files: ['rules.yml'], tests }),
    );
    assert.match(out, /SUCCESS/);
  });
});
