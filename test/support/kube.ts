import { KubeConfig } from '@kubernetes/client-node';
import { requireEnv } from './env.ts';

/** A client configuration for the test kube-apiserver, from the launcher's kubeconfig. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireEnv('KUBECONFIG'));
  return kc;
}
