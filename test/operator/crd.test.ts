import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { DURATION, RESERVED_TENANT_IDS, storageTenantSpec } from '@stowage/core';
import { uniqueName } from '../support/env.ts';
import {
  createNamespace,
  deleteNamespace,
  installStorageTenantCrd,
  storageTenantCrd,
  testKubeConfig,
} from '../support/kube.ts';

const target = { group: 'stowage.dev', version: 'v1alpha1', plural: 'storagetenants' };

describe('the StorageTenant CRD on the real kube-apiserver', () => {
  const kc = testKubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = uniqueName('crd');

  const create = (name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({
      ...target,
      namespace,
      body: { apiVersion: 'stowage.dev/v1alpha1', kind: 'StorageTenant', metadata: { name }, spec },
    }) as Promise<{ spec: Record<string, unknown>; metadata: { resourceVersion: string } }>;

  before(async () => {
    await installStorageTenantCrd();
    await createNamespace(namespace);
  });
  after(() => deleteNamespace(namespace));

  it('fills in the documented defaults, which the core schema reads as they are', async () => {
    const created = await create('defaults', { apiKeys: [{ name: 'backend' }] });
    assert.deepEqual(created.spec, {
      displayName: '',
      quota: { storage: '10Gi', maxFileSize: '10Gi', testStorage: '1Gi' },
      rateLimits: { upload: 120, list: 120, delete: 50, usage: 100 },
      apiKeys: [{ name: 'backend', scopes: ['read', 'write'], mode: 'live', rotation: 0 }],
      deletionPolicy: 'Retain',
    });
    const parsed = storageTenantSpec.parse(created.spec);
    assert.equal(parsed.quota.storage, 10 * 2 ** 30);
    assert.equal(parsed.quota.testStorage, 2 ** 30);
  });

  it('accepts a full spec', async () => {
    await create('full', {
      tenantId: uniqueName('acme'),
      displayName: 'Acme Inc.',
      quota: { storage: '500Gi', maxFileSize: 1073741824, testStorage: '2Gi' },
      rateLimits: { upload: 10, list: 20, delete: 5, usage: 1 },
      allowedOrigins: ['https://app.acme.com', 'http://localhost:3000'],
      buckets: [
        { name: 'avatars', public: true, allowedTypes: ['image/*'] },
        { name: 'private', public: false, expireAfter: '30d' },
        { name: 'scratch', expireAfter: '90m' },
      ],
      apiKeys: [
        {
          name: 'backend',
          scopes: ['admin'],
          mode: 'test',
          rotation: 2,
          allowedOrigins: ['https://x.acme.com'],
        },
      ],
      deletionPolicy: 'Delete',
    });
  });

  for (const [why, spec, message] of [
    ['an invalid tenantId', { tenantId: 'Not_Valid' }, /spec\.tenantId/],
    ['a reserved tenantId', { tenantId: 'files' }, /reserved/],
    ['a malformed quantity', { quota: { storage: '10GB' } }, /storage must be a non-negative byte quantity/],
    ['a zero maxFileSize', { quota: { maxFileSize: 0 } }, /maxFileSize must be a positive byte quantity/],
    ['a malformed testStorage', { quota: { testStorage: '1GB' } }, /testStorage must be a non-negative/],
    ['a negative testStorage', { quota: { testStorage: -1 } }, /testStorage must be a non-negative/],
    ['an expireAfter in weeks', { buckets: [{ name: 'b', expireAfter: '1w' }] }, /expireAfter/],
    ['an expireAfter of 0', { buckets: [{ name: 'b', expireAfter: '0d' }] }, /expireAfter/],
    ['an expireAfter in words', { buckets: [{ name: 'b', expireAfter: '30 days' }] }, /expireAfter/],
    ['a number as expireAfter', { buckets: [{ name: 'b', expireAfter: 3600 }] }, /expireAfter/],
    ['a rate limit of 0', { rateLimits: { upload: 0 } }, /spec\.rateLimits\.upload/],
    ['an unknown deletion policy', { deletionPolicy: 'Shred' }, /spec\.deletionPolicy/],
    ['an origin with a path', { allowedOrigins: ['https://a.com/path'] }, /spec\.allowedOrigins/],
    ['an unknown scope', { apiKeys: [{ name: 'k', scopes: ['root'] }] }, /scopes/],
    ['two keys of one name', { apiKeys: [{ name: 'k' }, { name: 'k' }] }, /Duplicate value/],
  ] as const) {
    it(`rejects ${why} with a clear message`, async () => {
      await assert.rejects(create(uniqueName('bad'), spec), (err: { body?: string; message?: string }) => {
        assert.match(String(err.body ?? err.message), message);
        return true;
      });
    });
  }

  it('takes exactly the expireAfter durations the API reads', () => {
    const bucket = storageTenantCrd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!
      .buckets!.items as { properties: Record<string, { pattern?: string }> };
    assert.equal(bucket.properties.expireAfter!.pattern, DURATION.source);
  });

  it('reserves exactly the tenant ids the API reserves', async () => {
    for (const tenantId of RESERVED_TENANT_IDS) {
      await assert.rejects(create(uniqueName('reserved'), { tenantId }), /reserved/, tenantId);
    }
    await create(uniqueName('free'), { tenantId: uniqueName('files') });
  });

  it('keeps tenantId immutable', async () => {
    const tenantId = uniqueName('fixed');
    const created = await create('immutable', { tenantId });
    const patch = (body: unknown) =>
      custom.patchNamespacedCustomObject({ ...target, namespace, name: 'immutable', body });
    await assert.rejects(
      patch([{ op: 'replace', path: '/spec/tenantId', value: 'other' }]),
      (err: { body?: string }) => {
        assert.match(String(err.body), /tenantId is immutable/);
        return true;
      },
    );
    await assert.rejects(patch([{ op: 'remove', path: '/spec/tenantId' }]), /tenantId is immutable/);
    const renamed = (await patch([{ op: 'replace', path: '/spec/displayName', value: 'renamed' }])) as {
      spec: Record<string, unknown>;
      metadata: { resourceVersion: string };
    };
    assert.equal(renamed.spec.displayName, 'renamed', 'other fields stay editable');
    assert.equal(renamed.spec.tenantId, tenantId);
    assert.notEqual(renamed.metadata.resourceVersion, created.metadata.resourceVersion);
  });
});
