import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helm, render, templateArgs } from './chart.ts';

// Each case: why, the --set expressions, and what helm's message must say (the field, and the problem).
const badValues: [string, string[], RegExp][] = [
  ['an unknown top-level key', ['colour=blue'], /additional properties 'colour' not allowed/],
  ['a misspelt nested key', ['api.replica=3'], /at '\/api': additional properties 'replica' not allowed/],
  ['replicas given as a word', ['api.replicas=two'], /at '\/api\/replicas': got string, want integer/],
  ['negative replicas', ['operator.replicas=-1'], /at '\/operator\/replicas': minimum: got -1, want 0/],
  ['an unknown log level', ['logLevel=loud'], /at '\/logLevel': value must be one of/],
  ['an unknown S3 auth mode', ['s3.auth=iam'], /at '\/s3\/auth': value must be one of 'secret', 'ambient'/],
  [
    'S3 keys from a Secret with no Secret named',
    ['s3.existingSecret='],
    /at '\/s3\/existingSecret': minLength/,
  ],
  ['no database Secret', ['database.existingSecret='], /at '\/database\/existingSecret'/],
  ['a Secret name Kubernetes refuses', ['redis.existingSecret=Redis_Creds'], /at '\/redis\/existingSecret'/],
  [
    'resources without limits',
    ['worker.resources.limits=null'],
    /at '\/worker\/resources': missing property 'limits'/,
  ],
  ['a byte size the API cannot parse', ['maxFileSizeLimit=10GB'], /at '\/maxFileSizeLimit'/],
  [
    'a key cache longer than revocation allows',
    ['api.keyCacheTtlMs=5000'],
    /at '\/api\/keyCacheTtlMs': maximum/,
  ],
  ['a redirect size the API cannot parse', ['api.downloadRedirectSize=64MB'], /\/api\/downloadRedirectSize/],
  ['a redirect size of no bytes', ['api.downloadRedirectSize=0Mi'], /\/api\/downloadRedirectSize/],
  ['a file size limit of no bytes', ['maxFileSizeLimit=0.0Gi'], /at '\/maxFileSizeLimit'/],
  ['a bucket prefix S3 refuses', ['s3.bucketPrefix=Stowage_'], /at '\/s3\/bucketPrefix'/],
  ['an S3 endpoint without a scheme', ['s3.endpoint=minio:9000'], /at '\/s3\/endpoint'/],
  [
    'a KEDA Prometheus that is no URL',
    ['worker.keda.prometheusUrl=prometheus:9090'],
    /\/worker\/keda\/prometheusUrl/,
  ],
  [
    'autoscaling to zero',
    ['worker.autoscaling.minReplicas=0'],
    /at '\/worker\/autoscaling\/minReplicas': minimum/,
  ],
  ['an ingress host with an underscore', ['api.ingress.host=files_example.com'], /at '\/api\/ingress\/host'/],
  ['a service type that does not exist', ['api.service.type=Public'], /at '\/api\/service\/type'/],
  [
    'a CPU target above 100%',
    ['api.autoscaling.targetCPUUtilizationPercentage=150'],
    /targetCPUUtilizationPercentage/,
  ],
  ['an alert ratio above 1', ['prometheusRule.quotaRatio=90'], /at '\/prometheusRule\/quotaRatio': maximum/],
  [
    'a NetworkPolicy peer with an unknown key',
    ['networkPolicy.apiFrom[0].pods=all'],
    /\/networkPolicy\/apiFrom\/0/,
  ],
  [
    'an env var without a name',
    ['api.extraEnv[0].value=x'],
    /at '\/api\/extraEnv\/0': missing property 'name'/,
  ],
  // Not expressible in the schema; the templates check it.
  [
    'autoscaling bounds the wrong way round',
    ['api.autoscaling.minReplicas=5', 'api.autoscaling.maxReplicas=2'],
    /api\.autoscaling\.minReplicas \(5\) must not exceed api\.autoscaling\.maxReplicas \(2\)/,
  ],
];

describe('values.schema.json rejects bad values', () => {
  for (const [why, set, message] of badValues) {
    it(`rejects ${why}`, async () => {
      const result = await helm(...templateArgs({ set }));
      assert.notEqual(result.code, 0, `rendered despite ${set.join(' ')}`);
      assert.match(result.stderr, message);
    });
  }

  it('asks for the S3 Secret only when keys come from one', async () => {
    const objects = await render({ set: ['s3.auth=ambient', 's3.existingSecret='] });
    assert.ok(objects.length > 0);
  });

  it('accepts byte sizes that round up to at least one byte', async () => {
    const objects = await render({
      set: ['maxFileSizeLimit=0.5', 'api.downloadRedirectSize=0.001Ki', 'worker.variants.maxInputSize=10Gi'],
    });
    assert.ok(objects.length > 0);
  });

  it('accepts a percentage for the PodDisruptionBudget', async () => {
    const objects = await render({ set: ['api.podDisruptionBudget.maxUnavailable=50%'] });
    const pdb = objects.find((object) => object.kind === 'PodDisruptionBudget') as {
      spec: { maxUnavailable: unknown };
    };
    assert.equal(pdb.spec.maxUnavailable, '50%');
  });
});
