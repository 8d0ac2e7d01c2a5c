/**
 * A Prometheus on the node scraping what the chart's ServiceMonitor selects, as prometheus-operator
 * would: the endpoints of the Services in the release's namespace that carry every label of the
 * selector, on the port the ServiceMonitor names. Debian's Prometheus is built without Kubernetes
 * discovery, so the targets are resolved here, with kubectl, into a file_sd file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, stopAll, waitUntil } from '../../scripts/test-env/processes.ts';
import { getJson, namespace, release } from './cluster.ts';

interface ServiceMonitor {
  spec: {
    selector: { matchLabels: Record<string, string> };
    endpoints: { port: string; path?: string }[];
  };
}

interface Endpoints {
  metadata: { name: string };
  subsets?: {
    addresses?: { ip: string; targetRef?: { name: string } }[];
    ports?: { name?: string; port: number }[];
  }[];
}

export interface Targets {
  path: string;
  groups: { targets: string[]; labels: Record<string, string> }[];
}

/** The targets the release's ServiceMonitor selects, one group per pod. */
export async function serviceMonitorTargets(): Promise<Targets> {
  const monitor = await getJson<ServiceMonitor>('servicemonitor', release, '-n', namespace);
  const [endpoint] = monitor.spec.endpoints;
  if (!endpoint) throw new Error('the ServiceMonitor has no endpoint');
  const selector = Object.entries(monitor.spec.selector.matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const services = await getJson<{ items: { metadata: { name: string } }[] }>(
    'services',
    '-n',
    namespace,
    '-l',
    selector,
  );
  const groups: Targets['groups'] = [];
  for (const service of services.items) {
    const endpoints = await getJson<Endpoints>('endpoints', service.metadata.name, '-n', namespace);
    for (const subset of endpoints.subsets ?? []) {
      const port = subset.ports?.find((p) => p.name === endpoint.port);
      if (!port) continue;
      for (const address of subset.addresses ?? [])
        groups.push({
          targets: [`${address.ip}:${port.port}`],
          labels: { service: service.metadata.name, pod: address.targetRef?.name ?? address.ip },
        });
    }
  }
  return { path: endpoint.path ?? '/metrics', groups };
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function startPrometheus(targets: Targets) {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-prometheus-'));
  writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets.groups));
  const scrape = {
    job_name: `serviceMonitor/${namespace}/${release}`,
    scrape_interval: '2s',
    metrics_path: targets.path,
    file_sd_configs: [{ files: [join(dir, 'targets.json')] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify({ scrape_configs: [scrape] }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = startProcess(
    'prometheus',
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    join(dir, 'prometheus.log'),
  );
  await waitUntil(server, async () => (await fetch(`${url}/-/ready`)).ok);
  return {
    async query(expr: string): Promise<Sample[]> {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { data: { result: Sample[] } };
      return body.data.result;
    },
    async stop() {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
