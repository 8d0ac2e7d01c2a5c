import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { KubernetesObject, V1ClusterRole } from '@kubernetes/client-node';
import { chartDir, helm, parseManifests, renderScenario, repo, scenarioFile, scenarios } from './chart.ts';

describe('the chart lints and renders', () => {
  it('has the CRD of crds/ as it is', () => {
    const source = 'crds/storagetenants.stowage.dev.yaml';
    const copy = 'charts/stowage/crds/storagetenants.stowage.dev.yaml';
    assert.ok(
      readFileSync(join(repo, copy)).equals(readFileSync(join(repo, source))),
      `${copy} differs from ${source}; resync it with: cp ${source} ${copy}`,
    );
  });

  it('grants the operator exactly the rules of operator/rbac.yaml, which the operator tests run under', async () => {
    const rulesOf = (objects: KubernetesObject[], kind: string) =>
      objects.filter((o) => o.kind === kind).map((o) => (o as V1ClusterRole).rules);
    const source = parseManifests(readFileSync(join(repo, 'operator/rbac.yaml'), 'utf8'));
    const rendered = await renderScenario('default-values.yaml');
    for (const kind of ['ClusterRole', 'Role'])
      assert.deepEqual(rulesOf(rendered, kind), rulesOf(source, kind), kind);
  });

  it('has scenarios to test', () => {
    assert.ok(scenarios.length >= 4, `only ${scenarios.join(', ')} in ci/`);
  });

  it('passes helm lint --strict with its defaults', async () => {
    const lint = await helm('lint', '--strict', chartDir);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
  });

  for (const scenario of scenarios) {
    it(`passes helm lint --strict with ${scenario}`, async () => {
      const lint = await helm('lint', '--strict', chartDir, '--values', scenarioFile(scenario));
      assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    });

    it(`renders ${scenario} into well-formed objects`, async () => {
      const objects = await renderScenario(scenario, { includeCrds: true });
      assert.ok(objects.length > 0);
      for (const object of objects) {
        assert.ok(object, 'an empty document');
        assert.ok(object.apiVersion && object.kind && object.metadata?.name, JSON.stringify(object));
      }
      const kinds = new Set(objects.map((object) => object.kind));
      for (const kind of ['CustomResourceDefinition', 'Deployment', 'Service', 'ClusterRole', 'Role']) {
        assert.ok(kinds.has(kind), `no ${kind}`);
      }
    });
  }
});
