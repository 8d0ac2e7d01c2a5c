import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Watch,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { uniqueName } from '../support/env.ts';
import { testKubeConfig } from '../support/kube.ts';
import { eventually } from '../support/poll.ts';

const group = 'infra.stowage.test';
const plural = 'widgets';

const crd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer', minimum: 1 } },
                required: ['size'],
              },
            },
          },
        },
      },
    ],
  },
};

interface WatchEvent {
  type: string;
  name: string;
  size: number;
}

describe('kube-apiserver (real, with etcd, via @kubernetes/client-node)', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let extensions: ApiextensionsV1Api;
  let custom: CustomObjectsApi;
  const namespace = uniqueName('infra');

  before(async () => {
    kc = testKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    extensions = kc.makeApiClient(ApiextensionsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });

  after(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => {});
    await extensions.deleteCustomResourceDefinition({ name: crd.metadata!.name! }).catch(() => {});
  });

  it('creates a namespace', async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const ns = await core.readNamespace({ name: namespace });
    assert.equal(ns.status?.phase, 'Active');
  });

  it('creates a CRD that becomes established and validates its schema', async () => {
    await extensions.createCustomResourceDefinition({ body: crd });
    await eventually(async () => {
      const got = await extensions.readCustomResourceDefinition({ name: crd.metadata!.name! });
      return (
        got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined
      );
    }, 'the CRD to be established');

    await assert.rejects(
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } },
      }),
      /spec\.size/,
    );
  });

  it('watches custom resources being added and modified', async () => {
    const events: WatchEvent[] = [];
    const watch = await new Watch(kc).watch(
      `/apis/${group}/v1/namespaces/${namespace}/${plural}`,
      {},
      (type, obj: { metadata: { name: string }; spec: { size: number } }) =>
        events.push({ type, name: obj.metadata.name, size: obj.spec.size }),
      () => {},
    );
    try {
      const body = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } };
      await custom.createNamespacedCustomObject({ group, version: 'v1', namespace, plural, body });
      await custom.patchNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural,
        name: 'w1',
        body: [{ op: 'replace', path: '/spec/size', value: 2 }],
      });
      await eventually(async () => (events.length >= 2 ? true : undefined), 'two watch events');
      assert.deepEqual(events, [
        { type: 'ADDED', name: 'w1', size: 1 },
        { type: 'MODIFIED', name: 'w1', size: 2 },
      ]);
    } finally {
      watch.abort();
    }
  });
});
