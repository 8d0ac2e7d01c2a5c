import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type {
  KubernetesObject,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1CronJob,
  V1Deployment,
  V1EnvVar,
  V1HorizontalPodAutoscaler,
  V1Job,
  V1NetworkPolicy,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { componentName, find, ofKind, release, render, type ScaledObject } from './chart.ts';

const namespace = 'stowage';

const deployment = (objects: KubernetesObject[], component: string) =>
  find<V1Deployment>(objects, 'Deployment', componentName(component));

/** A component's container environment, by variable name. */
function envOf(objects: KubernetesObject[], component: string): Record<string, V1EnvVar> {
  const [container] = deployment(objects, component).spec!.template.spec!.containers;
  return Object.fromEntries((container!.env ?? []).map((variable) => [variable.name, variable]));
}

const valuesOf = (env: Record<string, V1EnvVar>, ...names: string[]) =>
  Object.fromEntries(names.map((name) => [name, env[name]?.value]));

const hasKind = (objects: KubernetesObject[], kind: string, name: string) =>
  objects.some((o) => o.kind === kind && o.metadata!.name === name);

describe('the chart renders what its values say', () => {
  it('grants the operator exactly its least-privilege rules, bound to its ServiceAccount', async () => {
    const objects = await render({ set: ['operator.leaseName=stowage-leader'] });
    const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) =>
      ({ apiGroups, resources, verbs, ...(resourceNames && { resourceNames }) }) as V1PolicyRule;
    const cluster = find<V1Role>(objects, 'ClusterRole', componentName('operator'));
    assert.deepEqual(cluster.rules, [
      rule(['stowage.dev'], ['storagetenants'], ['get', 'list', 'watch', 'patch']),
      rule(['stowage.dev'], ['storagetenants/status'], ['patch']),
      rule(['stowage.dev'], ['storagetenants/finalizers'], ['update']),
      rule([''], ['secrets'], ['get', 'list', 'watch', 'create', 'update', 'delete']),
      rule([''], ['events'], ['create']),
    ]);
    const role = find<V1Role>(objects, 'Role', componentName('operator'));
    assert.deepEqual(role.rules, [
      rule(['coordination.k8s.io'], ['leases'], ['create']),
      rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['stowage-leader']),
    ]);
    assert.equal(envOf(objects, 'operator').OPERATOR_LEASE_NAME?.value, 'stowage-leader');

    const account = find<V1ServiceAccount>(objects, 'ServiceAccount', componentName('operator'));
    const subject = { kind: 'ServiceAccount', name: account.metadata!.name, namespace };
    for (const [bindingKind, roleKind] of [
      ['ClusterRoleBinding', 'ClusterRole'],
      ['RoleBinding', 'Role'],
    ] as const) {
      const binding = find<V1ClusterRoleBinding | V1RoleBinding>(
        objects,
        bindingKind,
        componentName('operator'),
      );
      assert.deepEqual(binding.subjects, [subject]);
      assert.equal(binding.roleRef.kind, roleKind);
      assert.ok(hasKind(objects, roleKind, binding.roleRef.name));
    }
    assert.equal(
      deployment(objects, 'operator').spec!.template.spec!.serviceAccountName,
      account.metadata!.name,
    );
  });

  it('configures the operator: identity from the downward API, lease, resync and key rotation', async () => {
    const objects = await render({ set: ['operator.replicas=2', 'operator.watchNamespace=tenants'] });
    const operator = deployment(objects, 'operator');
    assert.equal(operator.spec!.replicas, 2);
    assert.deepEqual(operator.spec!.template.spec!.containers[0]!.args, ['operator']);
    const env = envOf(objects, 'operator');
    assert.equal(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
    assert.deepEqual(
      valuesOf(env, 'OPERATOR_LEASE_NAME', 'OPERATOR_LEASE_SECONDS', 'OPERATOR_RESYNC_SECONDS'),
      {
        OPERATOR_LEASE_NAME: 'stowage-operator',
        OPERATOR_LEASE_SECONDS: '15',
        OPERATOR_RESYNC_SECONDS: '60',
      },
    );
    assert.deepEqual(valuesOf(env, 'OPERATOR_CONCURRENCY', 'WATCH_NAMESPACE', 'KEY_ROTATION_GRACE_SECONDS'), {
      OPERATOR_CONCURRENCY: '8',
      WATCH_NAMESPACE: 'tenants',
      KEY_ROTATION_GRACE_SECONDS: '86400',
    });
    assert.deepEqual(valuesOf(env, 'METRICS_PORT', 'LOG_LEVEL'), { METRICS_PORT: '9464', LOG_LEVEL: 'info' });
    for (const name of [
      'DATABASE_URL',
      'S3_ENDPOINT',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'PUBLIC_URL',
      'MAX_FILE_SIZE_LIMIT',
    ]) {
      assert.ok(env[name], `operator without ${name}`);
    }
  });

  it('writes big numbers as digits, never in exponent notation', async () => {
    // Numbers from values files reach the templates as floats (--set would give integers).
    const dir = mkdtempSync(join(tmpdir(), 'chart-values-'));
    const file = join(dir, 'big-values.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        worker: { variants: { maxPixels: 40000000 }, autoscaling: { enabled: false }, replicas: 1000000 },
        operator: { keyRotationGraceSeconds: 1000000 },
        api: { autoscaling: { minReplicas: 2000000, maxReplicas: 3000000 }, service: { port: 10000 } },
      }),
    );
    try {
      const objects = await render({ values: [file] });
      assert.equal(envOf(objects, 'worker').VARIANT_MAX_PIXELS?.value, '40000000');
      assert.equal(envOf(objects, 'operator').KEY_ROTATION_GRACE_SECONDS?.value, '1000000');
      assert.equal(deployment(objects, 'worker').spec!.replicas, 1000000);
      const hpa = find<V1HorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler', componentName('api'));
      assert.deepEqual([hpa.spec!.minReplicas, hpa.spec!.maxReplicas], [2000000, 3000000]);
      assert.equal(envOf(objects, 'api').PUBLIC_URL?.value, `http://${release}-api.${namespace}.svc:10000`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [why, set, url] of [
    ['the in-cluster Service without an ingress', [], `http://${release}-api.${namespace}.svc:8080`],
    [
      'the ingress host',
      ['api.ingress.enabled=true', 'api.ingress.host=files.acme.io'],
      'http://files.acme.io',
    ],
    [
      'the ingress host over TLS',
      ['api.ingress.enabled=true', 'api.ingress.host=files.acme.io', 'api.ingress.tls.enabled=true'],
      'https://files.acme.io',
    ],
    [
      'publicUrl over the ingress',
      ['api.ingress.enabled=true', 'publicUrl=https://cdn.acme.io'],
      'https://cdn.acme.io',
    ],
  ] as const) {
    it(`hands out URLs from ${why}`, async () => {
      const objects = await render({ set: [...set] });
      assert.equal(envOf(objects, 'api').PUBLIC_URL?.value, url);
      assert.equal(envOf(objects, 'operator').PUBLIC_URL?.value, url, 'the endpoint in key Secrets');
    });
  }

  it('scales the worker with KEDA on waiting jobs and CPU instead of its HPA', async () => {
    const objects = await render({
      set: [
        'worker.keda.enabled=true',
        'worker.autoscaling.minReplicas=2',
        'worker.autoscaling.maxReplicas=30',
      ],
    });
    const scaled = find<ScaledObject>(objects, 'ScaledObject', componentName('worker'));
    assert.equal(scaled.spec.scaleTargetRef.name, componentName('worker'));
    assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [2, 30]);
    const [queue, cpu] = scaled.spec.triggers;
    assert.equal(queue!.type, 'prometheus');
    assert.equal(
      queue!.metadata.query,
      `max(stowage_variant_queue_depth{state="waiting",namespace="${namespace}"})`,
    );
    assert.equal(queue!.metadata.threshold, '20');
    assert.equal(cpu!.type, 'cpu');
    assert.ok(!hasKind(objects, 'HorizontalPodAutoscaler', componentName('worker')));
    assert.ok(hasKind(objects, 'HorizontalPodAutoscaler', componentName('api')));
    assert.equal(deployment(objects, 'worker').spec!.replicas, undefined);
  });

  it('keeps a stopping API answering while it leaves the Service, within its grace period', async () => {
    const api = deployment(await render({ set: ['api.shutdownDelaySeconds=8'] }), 'api');
    const env = envOf([api], 'api');
    assert.equal(env.SHUTDOWN_DELAY_SECONDS?.value, '8');
    assert.ok(8 < (api.spec!.template.spec!.terminationGracePeriodSeconds ?? 30));
    assert.equal(envOf(await render({}), 'api').SHUTDOWN_DELAY_SECONDS?.value, '5');
  });

  it('redirects large downloads to S3 only when a size is given', async () => {
    assert.equal(envOf(await render(), 'api').DOWNLOAD_REDIRECT_SIZE, undefined);
    const objects = await render({
      set: ['api.downloadRedirectSize=64Mi', 's3.publicEndpoint=https://s3.example.com'],
    });
    assert.deepEqual(valuesOf(envOf(objects, 'api'), 'DOWNLOAD_REDIRECT_SIZE', 'S3_PUBLIC_ENDPOINT'), {
      DOWNLOAD_REDIRECT_SIZE: '64Mi',
      S3_PUBLIC_ENDPOINT: 'https://s3.example.com',
    });
  });

  it('runs fixed replicas when autoscaling is off', async () => {
    const objects = await render({
      set: [
        'api.autoscaling.enabled=false',
        'api.replicas=3',
        'worker.autoscaling.enabled=false',
        'worker.replicas=4',
      ],
    });
    assert.deepEqual(ofKind(objects, 'HorizontalPodAutoscaler'), []);
    assert.equal(deployment(objects, 'api').spec!.replicas, 3);
    assert.equal(deployment(objects, 'worker').spec!.replicas, 4);
  });

  it('reads S3 keys from the named Secret, or none at all with ambient credentials', async () => {
    const keyed = envOf(
      await render({
        set: ['s3.existingSecret=minio', 's3.accessKeyIdKey=id', 's3.secretAccessKeyKey=secret'],
      }),
      'worker',
    );
    assert.deepEqual(keyed.S3_ACCESS_KEY_ID?.valueFrom?.secretKeyRef, { name: 'minio', key: 'id' });
    assert.deepEqual(keyed.S3_SECRET_ACCESS_KEY?.valueFrom?.secretKeyRef, { name: 'minio', key: 'secret' });
    assert.equal(keyed.S3_ENDPOINT?.value, 'https://s3.us-east-1.amazonaws.com');

    const role = 'arn:aws:iam::123456789012:role/stowage';
    const objects = await render({
      set: [
        's3.auth=ambient',
        's3.region=eu-west-1',
        `worker.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=${role}`,
      ],
    });
    const ambient = envOf(objects, 'worker');
    assert.equal(ambient.S3_ACCESS_KEY_ID, undefined);
    assert.equal(ambient.S3_SECRET_ACCESS_KEY, undefined);
    assert.equal(ambient.S3_ENDPOINT?.value, 'https://s3.eu-west-1.amazonaws.com');
    const account = find<V1ServiceAccount>(objects, 'ServiceAccount', componentName('worker'));
    assert.equal(account.metadata!.annotations!['eks.amazonaws.com/role-arn'], role);
  });

  it('reads the database and Redis URLs from the named Secrets', async () => {
    const objects = await render({
      set: [
        'database.existingSecret=pg',
        'database.urlKey=uri',
        'redis.existingSecret=kv',
        'redis.urlKey=uri',
      ],
    });
    for (const component of ['api', 'worker']) {
      const env = envOf(objects, component);
      assert.deepEqual(env.DATABASE_URL?.valueFrom?.secretKeyRef, { name: 'pg', key: 'uri' });
      assert.deepEqual(env.REDIS_URL?.valueFrom?.secretKeyRef, { name: 'kv', key: 'uri' });
    }
    assert.equal(envOf(objects, 'operator').REDIS_URL, undefined, 'the operator needs no Redis');
  });

  it('generates a signing secret unless one is named', async () => {
    const generated = await render();
    const secret = find<V1Secret>(generated, 'Secret', componentName('signing'));
    assert.equal(Buffer.from(secret.data!.signingSecret!, 'base64').toString().length, 48);
    assert.deepEqual(envOf(generated, 'api').SIGNING_SECRET?.valueFrom?.secretKeyRef, {
      name: componentName('signing'),
      key: 'signingSecret',
    });

    const named = await render({
      set: ['api.signingSecret.existingSecret=url-signing', 'api.signingSecret.key=k'],
    });
    assert.deepEqual(ofKind(named, 'Secret'), []);
    assert.deepEqual(envOf(named, 'api').SIGNING_SECRET?.valueFrom?.secretKeyRef, {
      name: 'url-signing',
      key: 'k',
    });
  });

  it('tunes the worker for libvips', async () => {
    const objects = await render({ set: ['worker.concurrency=3', 'worker.threadpoolSize=6'] });
    const worker = deployment(objects, 'worker');
    assert.deepEqual(worker.spec!.template.spec!.containers[0]!.args, ['worker']);
    const env = envOf(objects, 'worker');
    assert.deepEqual(
      valuesOf(env, 'WORKER_CONCURRENCY', 'UV_THREADPOOL_SIZE', 'MALLOC_ARENA_MAX', 'QUEUE_PREFIX'),
      {
        WORKER_CONCURRENCY: '3',
        UV_THREADPOOL_SIZE: '6',
        MALLOC_ARENA_MAX: '2',
        QUEUE_PREFIX: 'stowage',
      },
    );
    assert.ok(env.VARIANT_TIMEOUT_SECONDS && env.VARIANT_MAX_INPUT_SIZE && env.VARIANT_RASTERISE_SVG);
  });

  it('migrates the database in a pre-install and pre-upgrade hook', async () => {
    const objects = await render();
    const job = find<V1Job>(objects, 'Job', componentName('migrate'));
    assert.deepEqual(job.metadata!.annotations, {
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const pod = job.spec!.template.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    // It runs before the chart's ServiceAccounts exist.
    assert.equal(pod.serviceAccountName, undefined);
    assert.deepEqual(pod.containers[0]!.args, ['migrate']);
    assert.deepEqual(
      pod.containers[0]!.env!.map((e) => e.name),
      ['DATABASE_URL', 'LOG_LEVEL'],
    );
    assert.deepEqual(ofKind(await render({ set: ['migrate.enabled=false'] }), 'Job'), []);
  });

  it('checks consistency on a schedule when enabled: recorded for the metrics, never repaired', async () => {
    const objects = await render({
      set: ['check.enabled=true', 'check.schedule=0 4 * * 0', 'check.orphanGrace=2d', 'check.stuckAfter=90m'],
    });
    const cron = find<V1CronJob>(objects, 'CronJob', componentName('check'));
    assert.equal(cron.spec!.schedule, '0 4 * * 0');
    assert.equal(cron.spec!.concurrencyPolicy, 'Forbid', 'one check at a time');
    const job = cron.spec!.jobTemplate.spec!;
    assert.equal(job.backoffLimit, 0, 'a run that found something is not run again');
    const pod = job.template.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.automountServiceAccountToken, false);
    const [container] = pod.containers;
    assert.deepEqual(container!.args, [
      'check',
      '--json',
      '--record',
      '--orphan-grace',
      '2d',
      '--stuck-after',
      '90m',
    ]);
    const env = container!.env!.map((e) => e.name);
    for (const name of ['DATABASE_URL', 'S3_ENDPOINT', 'S3_BUCKET_PREFIX', 'S3_ACCESS_KEY_ID'])
      assert.ok(env.includes(name), name);
    await assert.rejects(render({ set: ['check.enabled=true', 'check.orphanGrace=soon'] }), /orphanGrace/);
  });

  it('leaves the optional pieces out by default', async () => {
    const objects = await render();
    for (const kind of [
      'Ingress',
      'ServiceMonitor',
      'PrometheusRule',
      'NetworkPolicy',
      'ScaledObject',
      'CronJob',
    ]) {
      assert.deepEqual(ofKind(objects, kind), [], kind);
    }
    assert.ok(hasKind(objects, 'PodDisruptionBudget', componentName('api')));
    assert.equal(ofKind<V1ConfigMap>(objects, 'ConfigMap').length, 4, 'four dashboards');
  });

  it('labels the dashboards for the sidecar as configured', async () => {
    const objects = await render({ set: ['dashboards.label=grafana_dash', 'dashboards.labelValue=stowage'] });
    const maps = ofKind<V1ConfigMap>(objects, 'ConfigMap');
    assert.equal(maps.length, 4);
    for (const map of maps) assert.equal(map.metadata!.labels!.grafana_dash, 'stowage');
    assert.deepEqual(ofKind(await render({ set: ['dashboards.enabled=false'] }), 'ConfigMap'), []);
  });

  it('opens the API port to anyone and the metrics ports to the monitoring namespace', async () => {
    const objects = await render({ set: ['networkPolicy.enabled=true'] });
    const api = find<V1NetworkPolicy>(objects, 'NetworkPolicy', componentName('api'));
    assert.deepEqual(api.spec!.policyTypes, ['Ingress']);
    const [http, metrics] = api.spec!.ingress!;
    assert.deepEqual(http, { ports: [{ port: 'http' }] });
    // A plain object as rendered: the client's model would call this field `_from`.
    assert.deepEqual((metrics as { from?: unknown }).from, [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    for (const component of ['worker', 'operator']) {
      const policy = find<V1NetworkPolicy>(objects, 'NetworkPolicy', componentName(component));
      assert.deepEqual(
        policy.spec!.ingress!.map((rule) => rule.ports),
        [[{ port: 'metrics' }]],
      );
    }
  });

  it('appends extraEnv after the chart’s own settings', async () => {
    const objects = await render({
      set: ['api.extraEnv[0].name=NODE_OPTIONS', 'api.extraEnv[0].value=--inspect'],
    });
    const env = deployment(objects, 'api').spec!.template.spec!.containers[0]!.env!;
    assert.deepEqual(env.at(-1), { name: 'NODE_OPTIONS', value: '--inspect' });
  });
});
