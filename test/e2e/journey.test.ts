/**
 * The user journey on a real one-node cluster (`make e2e`), in order: each test builds on the ones
 * before it, as a person installing and using Stowage would.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { requireEnv } from '../support/env.ts';
import { eventually } from '../support/poll.ts';
import { runTool } from '../support/tools.ts';
import {
  apply,
  clusterFetch,
  containerId,
  getJson,
  helm,
  isReady,
  kubectl,
  namespace,
  pods,
  release,
  repo,
  templateHashes,
  tenantNamespace,
  type Condition,
} from './cluster.ts';
import { serviceMonitorTargets, startPrometheus } from './prometheus.ts';

const components = ['api', 'worker', 'operator'] as const;
const chart = `${repo}/charts/stowage`;
const helmArgs = [
  '--namespace',
  namespace,
  '--values',
  `${chart}/ci/e2e-values.yaml`,
  '--set',
  `s3.endpoint=${requireEnv('S3_ENDPOINT')}`,
  '--wait',
  '--timeout',
  '5m',
];

interface Tenant {
  endpoint: string;
  key: string;
  tenantId: string;
}

async function declareTenant(name: string): Promise<Tenant> {
  await apply({
    apiVersion: 'stowage.dev/v1alpha1',
    kind: 'StorageTenant',
    metadata: { name, namespace: tenantNamespace },
    spec: {
      tenantId: name,
      displayName: `E2E ${name}`,
      quota: { storage: '1Gi' },
      buckets: [{ name: 'photos', public: true }],
      // The rolling upgrade's clients send as fast as they can.
      rateLimits: { upload: 1_000_000, list: 1_000_000, delete: 1_000_000, usage: 1_000_000 },
      apiKeys: [{ name: 'backend', scopes: ['read', 'write', 'admin'] }],
    },
  });
  const secretName = await eventually(
    async () => {
      const st = await getJson<{
        status?: { conditions?: Condition[]; apiKeys?: { secretName: string }[] };
      }>('storagetenant', name, '-n', tenantNamespace);
      const ready = st.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? st.status?.apiKeys?.[0]?.secretName : undefined;
    },
    `StorageTenant ${name} to be Ready`,
    120_000,
  );
  const secret = await getJson<{ data: Record<string, string> }>('secret', secretName, '-n', tenantNamespace);
  const field = (k: string) => Buffer.from(secret.data[k] ?? '', 'base64').toString();
  return { endpoint: field('endpoint'), key: field('apiKey'), tenantId: field('tenantId') };
}

function api(tenant: Tenant, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-api-key', tenant.key);
  return clusterFetch(`${tenant.endpoint}${path}`, { ...init, headers });
}

async function upload(tenant: Tenant, bytes: Uint8Array, name: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [field, value] of Object.entries(fields)) form.set(field, value);
  form.set('file', new Blob([bytes]), name);
  const res = await api(tenant, '/upload/photos', { method: 'POST', body: form });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as UploadAnswer;
}

interface UploadAnswer {
  url: string;
  file: { key: string; size: number };
  variants?: Record<string, { url: string; status: string }>;
}

const image = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#c85a28' } })
    .png()
    .toBuffer();

let tenant: Tenant;

describe('Stowage on a one-node cluster', () => {
  before(async () => {
    await kubectl('create', 'namespace', tenantNamespace);
    // prometheus-operator's ServiceMonitor CRD, for the chart's ServiceMonitor (make tools copies it).
    const tools = process.env.TOOLS_DIR ?? `${repo}/.tools`;
    const crd = `${tools}/crds/prometheus-operator/monitoring.coreos.com_servicemonitors.yaml`;
    await kubectl('apply', '--server-side', '-f', crd);
    await kubectl('wait', '--for=condition=Established', '-f', crd);
  });

  test('helm install: the migrate hook completes before the Deployments start', async () => {
    const secrets: [string, Record<string, string>][] = [
      ['stowage-database', { url: requireEnv('DATABASE_URL') }],
      ['stowage-redis', { url: requireEnv('REDIS_URL') }],
      [
        'stowage-s3',
        { accessKeyId: requireEnv('S3_ACCESS_KEY_ID'), secretAccessKey: requireEnv('S3_SECRET_ACCESS_KEY') },
      ],
    ];
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });
    // Pods are refused until the namespace's default ServiceAccount exists, and the hook Job uses it.
    await eventually(
      () => kubectl('get', 'serviceaccount', 'default', '-n', namespace),
      'the default ServiceAccount',
    );
    for (const [name, stringData] of secrets)
      await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData });

    await helm('install', release, chart, ...helmArgs);

    // The hook Job is deleted once it succeeds; its Completed event and the Deployments' creation
    // times remain.
    const events = await getJson<{
      items: { reason: string; involvedObject: { kind: string; name: string }; lastTimestamp: string }[];
    }>('events', '-n', namespace, '--field-selector', 'involvedObject.kind=Job');
    const completed = events.items.find(
      (e) => e.involvedObject.name === `${release}-migrate` && e.reason === 'Completed',
    );
    assert.ok(completed, 'the migrate Job completed');
    for (const component of components) {
      const deployment = await getJson<{ metadata: { creationTimestamp: string } }>(
        'deployment',
        `${release}-${component}`,
        '-n',
        namespace,
      );
      assert.ok(
        Date.parse(deployment.metadata.creationTimestamp) >= Date.parse(completed.lastTimestamp),
        `${component} Deployment created after the migration completed`,
      );
    }
  });

  test('api, worker and operator pods are Ready under the restricted Pod Security level', async () => {
    // helm --wait is content with the API's first pod: with autoscaling on, the Deployment leaves the
    // replicas to the HPA, which raises them to minReplicas (2) within its sync period.
    for (const component of components)
      await eventually(
        async () => ((await pods(component)).filter(isReady).length >= 2 ? true : undefined),
        `two Ready ${component} pods`,
        120_000,
      );
    // Every one of them was admitted by PodSecurity at that level: it is enforced, as a pod with the
    // defaults (root, no seccomp profile, privilege escalation allowed) finds out.
    const labels = await getJson<{ metadata: { labels: Record<string, string> } }>('namespace', namespace);
    assert.equal(labels.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    const refused = await runTool('kubectl', [
      ...['run', 'defaults', '--dry-run=server', '--namespace', namespace],
      ...['--image', 'stowage.local/pause', '--restart', 'Never'],
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /violates PodSecurity "restricted:latest"/);
  });

  test('a StorageTenant becomes Ready and its key Secret works', async () => {
    tenant = await declareTenant('acme');
    assert.equal(tenant.tenantId, 'acme');
    assert.match(tenant.endpoint, new RegExp(`^http://${release}-api\\.${namespace}\\.svc:8080$`));
    const res = await api(tenant, '/tenant');
    assert.equal(res.status, 200);
  });

  test('files through the API Service by its DNS name: upload, serve, Range, variants, list, delete, usage', async () => {
    const png = await image(1200, 800);
    const uploaded = await upload(tenant, png, 'photo.png');
    assert.equal(uploaded.file.size, png.length);

    const served = await clusterFetch(uploaded.url);
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), png);

    const range = await clusterFetch(uploaded.url, { headers: { range: 'bytes=0-9' } });
    assert.equal(range.status, 206);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), png.subarray(0, 10));

    const secretBytes = randomBytes(4096);
    const hidden = await upload(tenant, secretBytes, 'secret.bin', { allowPublicAccess: 'false' });
    assert.equal((await clusterFetch(hidden.url)).status, 404);
    const withKey = await clusterFetch(hidden.url, { headers: { 'x-api-key': tenant.key } });
    assert.equal(withKey.status, 200);
    assert.deepEqual(Buffer.from(await withKey.arrayBuffer()), secretBytes);

    const thumb = uploaded.variants?.thumb?.url;
    assert.ok(thumb, 'the upload lists a thumb variant');
    const variant = await eventually(
      async () => {
        const res = await clusterFetch(thumb);
        return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
      },
      'the thumb variant',
      120_000,
    );
    assert.equal((await sharp(variant).metadata()).format, 'webp');

    const list = (await (await api(tenant, '/files/photos')).json()) as { files: { key: string }[] };
    assert.deepEqual(list.files.map((f) => f.key).sort(), [hidden.file.key, uploaded.file.key].sort());

    const deleted = await api(tenant, '/files/delete', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bucket: 'photos', key: hidden.file.key }),
    });
    assert.equal(deleted.status, 200);
    assert.equal((await clusterFetch(hidden.url, { headers: { 'x-api-key': tenant.key } })).status, 404);

    const usage = (await (await api(tenant, '/usage')).json()) as {
      data: { usedQuota: number; fileCount: number };
    };
    assert.equal(usage.data.fileCount, 1);
    assert.ok(usage.data.usedQuota >= png.length);
  });

  test('the pods export stowage_* metrics to a Prometheus that follows the ServiceMonitor', async () => {
    const prometheus = await startPrometheus(await serviceMonitorTargets());
    try {
      const up = await eventually(
        async () => {
          const result = await prometheus.query('count by (service) (up == 1)');
          const services = Object.fromEntries(result.map((r) => [r.metric.service, Number(r.value[1])]));
          return components.every((c) => services[`${release}-${c}`] === 2) ? services : undefined;
        },
        'two pods of each component scraped',
        120_000,
      );
      assert.equal(Object.keys(up).length, 3);
      for (const [query, component] of [
        ['sum by (service) (stowage_http_requests_total)', 'api'],
        ['max by (service) (stowage_variant_queue_depth)', 'worker'],
        ['sum by (service) (stowage_operator_is_leader)', 'operator'],
      ] as const) {
        const result = await prometheus.query(query);
        assert.deepEqual(
          result.map((r) => r.metric.service),
          [`${release}-${component}`],
          query,
        );
      }
      const leaders = await prometheus.query('sum(stowage_operator_is_leader)');
      assert.equal(Number(leaders[0]?.value[1]), 1, 'one operator leads');
    } finally {
      await prometheus.stop();
    }
  });

  test('helm upgrade rolls every Deployment while a client uploads and downloads: no request fails', async () => {
    const before = await templateHashes();
    let stopping = false;
    let done = 0;
    const failures = new Map<string, number>(); // what failed, and how often
    const client = async () => {
      while (!stopping) {
        try {
          const bytes = randomBytes(2048);
          const uploaded = await upload(tenant, bytes, 'rolling.bin');
          const res = await clusterFetch(uploaded.url);
          assert.equal(res.status, 200);
          assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
          done++;
        } catch (err) {
          const what = `${String(err)}${err instanceof Error && err.cause ? ` (${String(err.cause)})` : ''}`;
          failures.set(what, (failures.get(what) ?? 0) + 1);
          await sleep(100);
        }
      }
    };
    const clients = [client(), client()];
    try {
      await helm(
        'upgrade',
        release,
        chart,
        ...helmArgs,
        ...components.flatMap((c) => ['--set-string', `${c}.podAnnotations.e2e-rollout=1`]),
      );
    } finally {
      stopping = true;
      await Promise.all(clients);
    }
    const after = await templateHashes();
    for (const component of components) {
      assert.ok(after[component]!.size > 0);
      for (const hash of after[component]!) assert.ok(!before[component]!.has(hash), `${component} rolled`);
    }
    assert.deepEqual(Object.fromEntries(failures), {});
    assert.ok(done > 0);
  });

  test('the operator leader pod deleted: the other replica takes the Lease and reconciles a new tenant', async () => {
    const holder = async () =>
      (await getJson<{ spec: { holderIdentity?: string } }>('lease', `${release}-operator`, '-n', namespace))
        .spec.holderIdentity;
    const leader = await eventually(holder, 'a leader');
    const other = (await pods('operator')).map((p) => p.metadata.name).find((name) => name !== leader);
    assert.ok(other, 'a second operator replica');
    await kubectl('delete', 'pod', leader, '-n', namespace, '--wait=false');
    await eventually(
      async () => ((await holder()) === other ? true : undefined),
      `${other} to lead`,
      120_000,
    );
    const globex = await declareTenant('globex');
    assert.equal((await api(globex, '/tenant')).status, 200);
  });

  test('a worker killed in the middle of a job: the job finishes in another worker', async () => {
    const photo = await sharp({
      create: {
        width: 6000,
        height: 6000,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg()
      .toBuffer();
    const uploaded = await upload(tenant, photo, 'large.jpg');
    const fileId = uploaded.file.key.split('.')[0]!;
    const started = new RegExp(`"fileId":"${fileId}"[^\\n]*"msg":"variant job started"`);
    const [victim, container] = await eventually(async () => {
      for (const pod of await pods('worker')) {
        const logs = await kubectl('logs', pod.metadata.name, '-n', namespace).catch(() => '');
        if (started.test(logs)) return [pod.metadata.name, containerId(pod)] as const;
      }
      return undefined;
    }, 'a worker to start the job');
    // As the kernel's OOM killer would: no SIGTERM, no chance to hand the job back.
    await runTool('ctr', [
      '--address',
      requireEnv('E2E_CONTAINERD'),
      '-n',
      'k8s.io',
      'tasks',
      'kill',
      '-s',
      'SIGKILL',
      container,
    ]);
    const details = await eventually(
      async () => {
        const res = await api(tenant, `/files/photos/${uploaded.file.key}`);
        const body = (await res.json()) as { file: { variantStatus: string } };
        return body.file.variantStatus === 'pending' ? undefined : body.file;
      },
      'the variants after the worker was killed',
      180_000,
    );
    assert.equal(details.variantStatus, 'ready');
    const killedLogs = await kubectl('logs', victim, '-n', namespace, '--previous');
    assert.match(killedLogs, started);
    assert.doesNotMatch(killedLogs, new RegExp(`"fileId":"${fileId}"[^\\n]*"msg":"variant job finished"`));
  });

  test('the HorizontalPodAutoscalers read CPU through metrics-server', async () => {
    for (const component of ['api', 'worker']) {
      const utilisation = await eventually(
        async () => {
          const hpa = await getJson<{
            status: { currentMetrics?: { resource?: { current?: { averageUtilization?: number } } }[] };
          }>('hpa', `${release}-${component}`, '-n', namespace);
          return hpa.status.currentMetrics?.[0]?.resource?.current?.averageUtilization;
        },
        `the ${component} HPA to read CPU`,
        180_000,
      );
      assert.equal(typeof utilisation, 'number');
    }
  });
});
