import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Container,
  V1CronJob,
  V1Deployment,
  V1HorizontalPodAutoscaler,
  V1Ingress,
  V1Job,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { chartDir, ofKind, release, renderScenario, scenarios, selects, type ScaledObject } from './chart.ts';

const namespace = 'stowage';
// Settings that carry credentials: they must come from a Secret, never inline.
const secretEnv = ['DATABASE_URL', 'REDIS_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'SIGNING_SECRET'];
const dashboardFiles = readdirSync(join(chartDir, 'dashboards')).filter((file) => file.endsWith('.json'));

interface Workload {
  kind: string;
  name: string;
  template: V1PodTemplateSpec;
  spec: V1PodSpec;
}

interface ServiceMonitor extends KubernetesObject {
  spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
}

function workloads(objects: KubernetesObject[]): Workload[] {
  const templates = [
    ...[...ofKind<V1Deployment>(objects, 'Deployment'), ...ofKind<V1Job>(objects, 'Job')].map(
      (w) => [w, w.spec!.template] as const,
    ),
    ...ofKind<V1CronJob>(objects, 'CronJob').map((c) => [c, c.spec!.jobTemplate.spec!.template] as const),
  ];
  return templates.map(([w, template]) => ({
    kind: w.kind!,
    name: w.metadata!.name!,
    template,
    spec: template.spec!,
  }));
}

const containersOf = (spec: V1PodSpec): V1Container[] => [...(spec.initContainers ?? []), ...spec.containers];
const portNames = (w: Workload) =>
  new Set(
    containersOf(w.spec)
      .flatMap((c) => c.ports ?? [])
      .map((p) => p.name),
  );
const podsSelectedBy = (all: Workload[], selector: Record<string, string> | undefined) =>
  all.filter((w) => selects(selector, w.template.metadata?.labels));

for (const scenario of scenarios) {
  describe(`rendered manifests of ${scenario}`, () => {
    let objects: KubernetesObject[];
    let pods: Workload[];

    before(async () => {
      objects = await renderScenario(scenario, { namespace });
      pods = workloads(objects);
    });

    it('puts every namespaced object in the release namespace and labels every object', () => {
      for (const object of objects) {
        const { name, namespace: ns, labels = {} } = object.metadata!;
        const clusterScoped = ['ClusterRole', 'ClusterRoleBinding'].includes(object.kind!);
        assert.equal(ns, clusterScoped ? undefined : namespace, `${object.kind} ${name}`);
        assert.equal(labels['app.kubernetes.io/instance'], release, `${object.kind} ${name}`);
        assert.equal(labels['app.kubernetes.io/managed-by'], 'Helm', `${object.kind} ${name}`);
      }
      const keys = objects.map((o) => `${o.kind}/${o.metadata!.name}`);
      assert.deepEqual(keys, [...new Set(keys)], 'two objects of one kind and name');
    });

    it('selects each Deployment’s own pods, and only those', () => {
      for (const deployment of ofKind<V1Deployment>(objects, 'Deployment')) {
        const selector = deployment.spec!.selector.matchLabels;
        assert.ok(selects(selector, deployment.spec!.template.metadata!.labels), deployment.metadata!.name);
        const also = podsSelectedBy(pods, selector).filter((w) => w.name !== deployment.metadata!.name);
        assert.deepEqual(also, [], `${deployment.metadata!.name} also selects ${also.map((w) => w.name)}`);
      }
      for (const job of ofKind<V1Job>(objects, 'Job')) {
        // The apiserver makes a Job's selector from its uid; the chart must not set one.
        assert.equal(job.spec!.selector, undefined);
        assert.equal(job.spec!.template.metadata!.labels!['app.kubernetes.io/component'], 'migrate');
      }
    });

    it('runs every container non-root, read-only, without privileges, with requests and limits', () => {
      assert.ok(pods.length >= 3);
      for (const { name, spec } of pods) {
        const pod = spec.securityContext ?? {};
        assert.equal(pod.runAsNonRoot, true, name);
        assert.equal(pod.runAsUser, 10001, name);
        assert.equal(pod.seccompProfile?.type, 'RuntimeDefault', name);
        const tmp = spec.volumes?.find((v) => v.name === 'tmp');
        assert.ok(tmp?.emptyDir, `${name}: no emptyDir for /tmp`);
        for (const container of containersOf(spec)) {
          const where = `${name}/${container.name}`;
          const security = container.securityContext ?? {};
          assert.equal(security.readOnlyRootFilesystem, true, where);
          assert.equal(security.allowPrivilegeEscalation, false, where);
          assert.deepEqual(security.capabilities?.drop, ['ALL'], where);
          assert.equal(security.privileged, undefined, where);
          assert.ok(
            container.volumeMounts?.some((m) => m.name === 'tmp' && m.mountPath === '/tmp'),
            `${where}: /tmp not mounted`,
          );
          for (const bound of ['requests', 'limits'] as const) {
            const resources = container.resources?.[bound] ?? {};
            assert.ok(resources.cpu !== undefined && resources.memory !== undefined, `${where}: no ${bound}`);
          }
        }
      }
    });

    it('probes every long-running container on /healthz and /readyz at one of its ports', () => {
      for (const workload of pods.filter((w) => w.kind === 'Deployment')) {
        for (const container of workload.spec.containers) {
          const where = `${workload.name}/${container.name}`;
          assert.equal(container.livenessProbe?.httpGet?.path, '/healthz', where);
          assert.equal(container.readinessProbe?.httpGet?.path, '/readyz', where);
          for (const probe of [container.livenessProbe!, container.readinessProbe!]) {
            assert.ok(portNames(workload).has(String(probe.httpGet!.port)), `${where}: probe port`);
          }
        }
      }
    });

    it('takes every credential from a Secret', () => {
      for (const { name, spec } of pods) {
        for (const container of containersOf(spec)) {
          for (const variable of container.env ?? []) {
            const where = `${name}/${container.name} ${variable.name}`;
            if (secretEnv.includes(variable.name)) {
              assert.equal(variable.value, undefined, `${where} is inline`);
              assert.ok(variable.valueFrom?.secretKeyRef?.name, `${where} is not from a Secret`);
            }
            assert.doesNotMatch(variable.value ?? '', /:\/\/[^/\s]*:[^/\s]*@/, `${where} holds a password`);
          }
        }
      }
      const database = pods
        .flatMap((w) => w.spec.containers)
        .filter((c) => c.env?.some((e) => e.name === 'DATABASE_URL'));
      assert.equal(database.length, pods.length, 'every process needs the database');
    });

    it('gives each Deployment a ServiceAccount of its own, with a token only for the operator', () => {
      for (const deployment of ofKind<V1Deployment>(objects, 'Deployment')) {
        const spec = deployment.spec!.template.spec!;
        const account = objects.find(
          (o): o is V1ServiceAccount =>
            o.kind === 'ServiceAccount' && o.metadata!.name === spec.serviceAccountName,
        );
        assert.ok(account, `${deployment.metadata!.name}: no ServiceAccount ${spec.serviceAccountName}`);
        const operator = deployment.metadata!.name === `${release}-operator`;
        assert.equal(spec.automountServiceAccountToken ?? account.automountServiceAccountToken, operator);
      }
    });

    it('points Services, the Ingress and the NetworkPolicies at pods and ports that exist', () => {
      for (const service of ofKind<V1Service>(objects, 'Service')) {
        const selected = podsSelectedBy(pods, service.spec!.selector);
        assert.equal(
          selected.length,
          1,
          `Service ${service.metadata!.name} selects ${selected.length} workloads`,
        );
        for (const port of service.spec!.ports!) {
          assert.ok(
            portNames(selected[0]!).has(String(port.targetPort)),
            `${service.metadata!.name}: ${port.name}`,
          );
        }
      }
      for (const ingress of ofKind<V1Ingress>(objects, 'Ingress')) {
        for (const path of ingress.spec!.rules!.flatMap((r) => r.http!.paths)) {
          const backend = path.backend.service!;
          const service = ofKind<V1Service>(objects, 'Service').find(
            (s) => s.metadata!.name === backend.name,
          );
          assert.ok(
            service?.spec!.ports!.some((p) => p.name === backend.port!.name),
            backend.name,
          );
        }
      }
      for (const policy of ofKind<V1NetworkPolicy>(objects, 'NetworkPolicy')) {
        const selected = podsSelectedBy(pods, policy.spec!.podSelector!.matchLabels);
        assert.equal(selected.length, 1, policy.metadata!.name);
        for (const port of policy.spec!.ingress!.flatMap((rule) => rule.ports ?? [])) {
          assert.ok(portNames(selected[0]!).has(String(port.port)), `${policy.metadata!.name}: ${port.port}`);
        }
      }
    });

    it('scales only Deployments it renders, each with one autoscaler and no fixed replicas', () => {
      const deployments = ofKind<V1Deployment>(objects, 'Deployment');
      const targets = [
        ...ofKind<V1HorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler').map(
          (h) => h.spec!.scaleTargetRef.name,
        ),
        ...ofKind<ScaledObject>(objects, 'ScaledObject').map((s) => s.spec.scaleTargetRef.name),
      ];
      assert.deepEqual(targets, [...new Set(targets)], 'a Deployment with two autoscalers');
      for (const target of targets) {
        const deployment = deployments.find((d) => d.metadata!.name === target);
        assert.ok(deployment, `autoscaler of a missing Deployment ${target}`);
        assert.equal(deployment.spec!.replicas, undefined, `${target} has replicas and an autoscaler`);
      }
      for (const deployment of deployments.filter((d) => !targets.includes(d.metadata!.name!))) {
        assert.equal(typeof deployment.spec!.replicas, 'number', deployment.metadata!.name);
      }
    });

    it('guards the API with a PodDisruptionBudget over its pods, when enabled', () => {
      for (const pdb of ofKind<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
        const selected = podsSelectedBy(pods, pdb.spec!.selector!.matchLabels);
        assert.deepEqual(
          selected.map((w) => w.name),
          [`${release}-api`],
        );
      }
    });

    it('scrapes the metrics port of the API, the worker and the operator', () => {
      for (const monitor of ofKind<ServiceMonitor>(objects, 'ServiceMonitor')) {
        const scraped = ofKind<V1Service>(objects, 'Service')
          .filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata!.labels))
          .filter((s) => monitor.spec.endpoints.some((e) => s.spec!.ports!.some((p) => p.name === e.port)));
        assert.deepEqual(
          scraped.map((s) => s.metadata!.name).sort(),
          ['api', 'operator', 'worker'].map((c) => `${release}-${c}`),
        );
      }
    });

    it('ships each dashboard as valid JSON in a ConfigMap the Grafana sidecar picks up', () => {
      const maps = ofKind<V1ConfigMap>(objects, 'ConfigMap').filter((m) =>
        m.metadata!.name!.includes('dashboard'),
      );
      assert.ok(maps.length === 0 || maps.length === dashboardFiles.length, `${maps.length} dashboards`);
      for (const map of maps) {
        assert.equal(map.metadata!.labels!.grafana_dashboard, '1');
        const [file, json] = Object.entries(map.data!)[0]!;
        assert.ok(dashboardFiles.includes(file), file);
        const dashboard = JSON.parse(json) as { uid: string; panels: unknown[]; templating: unknown };
        assert.ok(dashboard.uid && dashboard.panels.length > 0, file);
        assert.match(JSON.stringify(dashboard.templating), /"name":"datasource"/, file);
      }
    });
  });
}
