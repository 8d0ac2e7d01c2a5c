/**
 * What the journey needs from the cluster `make e2e` starts (scripts/e2e/cluster.sh): kubectl and helm
 * on its kubeconfig, the release's settings, and a fetch that reaches Services by their DNS names
 * through the cluster's DNS server, as a pod would.
 */
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireEnv } from '../support/env.ts';
import { runTool } from '../support/tools.ts';

export const repo = resolve(import.meta.dirname, '../..');
export const namespace = 'stowage';
export const release = 'stowage';
export const tenantNamespace = 'team-a';

/** Runs kubectl on the cluster; throws with its output unless it succeeds. */
export async function kubectl(...args: string[]): Promise<string> {
  return tool('kubectl', args);
}

export async function helm(...args: string[]): Promise<string> {
  return tool('helm', args, 600_000);
}

async function tool(name: string, args: string[], timeoutMs = 180_000): Promise<string> {
  const result = await runTool(name, args, {}, { timeoutMs });
  if (result.code !== 0)
    throw new Error(`${name} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** kubectl apply of a manifest given as an object. */
export async function apply(manifest: object): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-apply-'));
  try {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await kubectl('apply', '-f', join(dir, 'manifest.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function getJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await kubectl('get', ...args, '-o', 'json')) as T;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
}

export interface Pod {
  metadata: {
    name: string;
    creationTimestamp: string;
    deletionTimestamp?: string;
    labels: Record<string, string>;
  };
  status: { phase: string; conditions?: Condition[]; containerStatuses?: { containerID?: string }[] };
}

/** The containerd id of the pod's (one) running container. */
export function containerId(pod: Pod): string {
  const id = pod.status.containerStatuses?.[0]?.containerID;
  if (!id) throw new Error(`${pod.metadata.name} has no container`);
  return id.replace(/^containerd:\/\//, '');
}

export const isReady = (pod: Pod) =>
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A component's pods, leaving out those already being deleted. */
export async function pods(component: string): Promise<Pod[]> {
  const list = await getJson<{ items: Pod[] }>(
    'pods',
    '-n',
    namespace,
    '-l',
    `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`,
  );
  return list.items.filter((pod) => !pod.metadata.deletionTimestamp);
}

/** Each component's pod-template hashes, of the pods that exist now. */
export async function templateHashes(): Promise<Record<string, Set<string>>> {
  const hashes: Record<string, Set<string>> = {};
  for (const component of ['api', 'worker', 'operator']) {
    const list = await pods(component);
    hashes[component] = new Set(list.map((p) => p.metadata.labels['pod-template-hash']!));
  }
  return hashes;
}

const resolver = new Resolver();
resolver.setServers([requireEnv('E2E_DNS_SERVER')]);

/** A cluster name (`<service>.<namespace>.svc`) resolved by the cluster's DNS, as a pod's resolver would. */
async function clusterAddress(hostname: string): Promise<string> {
  if (!/\.svc(\.cluster\.local)?$/.test(hostname)) return hostname;
  const [address] = await resolver.resolve4(
    hostname.endsWith('.svc') ? `${hostname}.cluster.local` : hostname,
  );
  if (!address) throw new Error(`the cluster's DNS has no address for ${hostname}`);
  return address;
}

/** fetch, with a Service's DNS name in the URL sent to the address the cluster's DNS gives for it. */
export const clusterFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input);
  url.hostname = await clusterAddress(url.hostname);
  return fetch(url, init);
};
