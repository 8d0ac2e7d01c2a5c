import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { requireEnv, uniqueName } from '../support/env.ts';
import { testKubeConfig } from '../support/kube.ts';
import { runTool } from '../support/tools.ts';

describe('helm (against the real kube-apiserver)', () => {
  let home: string;
  let chart: string;
  let env: NodeJS.ProcessEnv;
  const namespace = uniqueName('helm');
  const core = () => testKubeConfig().makeApiClient(CoreV1Api);
  const helm = (...args: string[]) => runTool('helm', [...args, '--namespace', namespace], env);

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'helm-test-'));
    env = {
      KUBECONFIG: requireEnv('KUBECONFIG'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
    chart = join(home, 'greeter');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: greeter\nversion: 0.1.0\n');
    writeFileSync(join(chart, 'values.yaml'), 'greeting: hello\n');
    writeFileSync(
      join(chart, 'templates', 'configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
    );
  });

  after(async () => {
    await core()
      .deleteNamespace({ name: namespace })
      .catch(() => {});
    rmSync(home, { recursive: true, force: true });
  });

  it('installs, upgrades and uninstalls a release', async () => {
    const install = await helm('install', 'greet', chart, '--create-namespace', '--set', 'greeting=hi there');
    assert.equal(install.code, 0, install.stderr);
    let cm = await core().readNamespacedConfigMap({ name: 'greet-greeting', namespace });
    assert.equal(cm.data?.greeting, 'hi there');

    const upgrade = await helm('upgrade', 'greet', chart, '--set', 'greeting=again');
    assert.equal(upgrade.code, 0, upgrade.stderr);
    cm = await core().readNamespacedConfigMap({ name: 'greet-greeting', namespace });
    assert.equal(cm.data?.greeting, 'again');

    const list = await helm('list', '--output', 'json');
    const releases = JSON.parse(list.stdout) as { name: string; revision: string; status: string }[];
    assert.deepEqual(
      releases.map(({ name, revision, status }) => ({ name, revision, status })),
      [{ name: 'greet', revision: '2', status: 'deployed' }],
    );

    const uninstall = await helm('uninstall', 'greet');
    assert.equal(uninstall.code, 0, uninstall.stderr);
    await assert.rejects(
      core().readNamespacedConfigMap({ name: 'greet-greeting', namespace }),
      /404|not found/i,
    );
  });
});
