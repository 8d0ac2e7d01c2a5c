import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Listens and resolves to the server's base URL (with the real port when 0 was asked for). */
export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const { port: actual } = server.address() as AddressInfo;
      resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`);
    });
  });
}

/** Probes for the processes without a public HTTP API (worker, operator). */
export interface HealthChecks {
  /** false: the process is stuck and should be restarted (answered at /healthz). */
  live?: () => boolean;
  /** false: the process should get no traffic or work yet (answered at /readyz). */
  ready?: () => boolean;
}

/**
 * Serves `registry` at /metrics on a port of its own, away from the public API, with /healthz and
 * /readyz for processes that have no other HTTP server.
 */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host: string,
  health: HealthChecks = {},
): Promise<{ url: string; server: Server }> {
  const probe = (check: (() => boolean) | undefined) => ((check?.() ?? true) ? 200 : 503);
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(probe(health.live)).end();
    if (req.url === '/readyz') return void res.writeHead(probe(health.ready)).end();
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return { url: `${await listen(server, port, host)}/metrics`, server };
}
