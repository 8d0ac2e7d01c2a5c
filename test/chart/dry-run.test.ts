import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  KubernetesObject,
  V1CronJob,
  V1Deployment,
  V1Job,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { uniqueName } from '../support/env.ts';
import { createNamespace, deleteNamespace, testKubeConfig } from '../support/kube.ts';
import { eventually } from '../support/poll.ts';
import { ofKind, parseManifests, renderScenario, repo, scenarios } from './chart.ts';

const kc = testKubeConfig();
const fieldManager = 'stowage-chart-test';

interface Reply {
  status: number;
  body: { message?: string; resources?: { name: string; kind: string; namespaced: boolean }[] } & Record<
    string,
    unknown
  >;
}

/**
 * One request to the apiserver with the body sent as it is. The client's typed APIs would pass the
 * manifests through its models first, which drop unknown fields: the apiserver must see them to refuse them.
 */
async function call(method: string, path: string, body?: unknown, contentType?: string): Promise<Reply> {
  const options: RequestOptions = { method, headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, kc.getCurrentCluster()!.server), options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    if (contentType) req.setHeader('content-type', contentType);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const resources = new Map<string, Reply['body']['resources']>();

/** The REST path of an object, from the apiserver's discovery of its group and version. */
async function pathOf({ apiVersion, kind, metadata }: KubernetesObject): Promise<string> {
  const base = apiVersion!.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (!resources.has(apiVersion!)) {
    const discovery = await call('GET', base);
    assert.equal(discovery.status, 200, `no API ${apiVersion}`);
    resources.set(apiVersion!, discovery.body.resources);
  }
  const resource = resources.get(apiVersion!)!.find((r) => r.kind === kind && !r.name.includes('/'));
  assert.ok(resource, `the apiserver serves no ${kind} in ${apiVersion}`);
  const namespace = resource.namespaced ? `/namespaces/${metadata!.namespace}` : '';
  return `${base}${namespace}/${resource.name}/${metadata!.name}`;
}

/** Server-side apply, strict about unknown and duplicate fields; dryRun runs all of admission but stores nothing. */
async function apply(object: KubernetesObject, { dryRun }: { dryRun: boolean }): Promise<Reply> {
  const query = new URLSearchParams({ fieldManager, force: 'true', fieldValidation: 'Strict' });
  if (dryRun) query.set('dryRun', 'All');
  return call('PATCH', `${await pathOf(object)}?${query}`, object, 'application/apply-patch+yaml');
}

/** Dry-runs each object and returns a line per refusal. */
async function refusals(objects: KubernetesObject[]): Promise<string[]> {
  const lines: string[] = [];
  for (const object of objects) {
    const reply = await apply(object, { dryRun: true });
    if (reply.status >= 300) lines.push(`${object.kind} ${object.metadata!.name}: ${reply.body.message}`);
  }
  return lines;
}

/** The CRDs of other projects the chart renders objects of, as `make tools` copied them from their modules. */
function thirdPartyCrds(): KubernetesObject[] {
  const dir = join(process.env.TOOLS_DIR ?? join(repo, '.tools'), 'crds');
  return readdirSync(dir).flatMap((project) =>
    readdirSync(join(dir, project)).flatMap((file) =>
      parseManifests(readFileSync(join(dir, project, file), 'utf8')),
    ),
  );
}

/** A bare Pod of a workload's template, which Pod Security admission judges (it only warns on workloads). */
const podOf = (name: string, namespace: string, template: V1PodTemplateSpec): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...template.metadata, name, namespace },
    spec: template.spec,
  }) as KubernetesObject;

describe('the rendered chart on the real kube-apiserver (server-side apply, dry run)', () => {
  const namespace = uniqueName('chart');

  before(async () => {
    const crds = thirdPartyCrds();
    assert.deepEqual(crds.map((crd) => crd.metadata!.name).sort(), [
      'prometheusrules.monitoring.coreos.com',
      'scaledobjects.keda.sh',
      'servicemonitors.monitoring.coreos.com',
    ]);
    for (const crd of crds) {
      const reply = await apply(crd, { dryRun: false });
      assert.ok(reply.status < 300, `${crd.metadata!.name}: ${reply.body.message}`);
    }
    for (const crd of crds) {
      await eventually(async () => {
        const { body } = await call('GET', await pathOf(crd));
        const conditions =
          (body.status as { conditions?: { type: string; status: string }[] }).conditions ?? [];
        return conditions.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
      }, `${crd.metadata!.name} to be established`);
    }
    // Pods of the chart must pass the restricted Pod Security Standard, which this namespace enforces.
    await createNamespace(namespace, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  after(() => deleteNamespace(namespace));

  for (const scenario of scenarios) {
    it(`accepts every object of ${scenario}, the CRD included`, async () => {
      const objects = await renderScenario(scenario, { namespace, includeCrds: true });
      assert.ok(objects.some((o) => o.kind === 'CustomResourceDefinition'));
      assert.deepEqual(await refusals(objects), []);
    });

    it(`admits the pods of ${scenario} under the restricted Pod Security Standard`, async () => {
      const objects = await renderScenario(scenario, { namespace });
      const workloads = [...ofKind<V1Deployment>(objects, 'Deployment'), ...ofKind<V1Job>(objects, 'Job')];
      assert.ok(workloads.length >= 3);
      const pods = [
        ...workloads.map((w) => podOf(w.metadata!.name!, namespace, w.spec!.template)),
        ...ofKind<V1CronJob>(objects, 'CronJob').map((c) =>
          podOf(c.metadata!.name!, namespace, c.spec!.jobTemplate.spec!.template),
        ),
      ];
      assert.deepEqual(await refusals(pods), []);
    });
  }

  // The checks above can fail: the apiserver refuses what is wrong, as it is sent.
  it('refuses a misspelt field and a pod that may run as root', async () => {
    const objects = await renderScenario(scenarios[0]!, { namespace });
    const [deployment] = ofKind<V1Deployment>(objects, 'Deployment');
    const misspelt = { ...deployment!, spec: { ...deployment!.spec!, replica: 2 } } as KubernetesObject;
    assert.match((await refusals([misspelt]))[0] ?? '', /\.spec\.replica: field not declared in schema/);

    const template = structuredClone(deployment!.spec!.template);
    template.spec!.securityContext = { ...template.spec!.securityContext, runAsNonRoot: false };
    assert.match(
      (await refusals([podOf('root', namespace, template)]))[0] ?? '',
      /violates PodSecurity "restricted/,
    );
  });
});
