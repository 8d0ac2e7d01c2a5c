import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { ApiDeps } from './deps.ts';
import { startSweeper } from './uploads/sweeper.ts';

export interface RunningApi {
  /** Where the API listens, e.g. http://127.0.0.1:8080 (the real port when 0 was asked for). */
  url: string;
  metricsUrl: string;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const { port: actual } = server.address() as AddressInfo;
      resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`);
    });
  });
}

/** Starts the API, its metrics endpoint (on a port of its own) and the upload sweeper. */
export async function startApi(
  deps: ApiDeps,
  options: { sweepIntervalMs?: number } = {},
): Promise<RunningApi> {
  const { http } = deps.config;
  const api = createServer(createApp(deps));
  // Large uploads may take a long time; the socket's idle timeout still catches stalled clients.
  api.requestTimeout = 0;
  api.headersTimeout = 60_000;
  api.keepAliveTimeout = 65_000;
  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    deps.metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  const url = await listen(api, http.port, http.host);
  const metricsUrl = `${await listen(metrics, http.metricsPort, http.host)}/metrics`;
  const stopSweeper = startSweeper(deps, options.sweepIntervalMs);
  return {
    url,
    metricsUrl,
    async close() {
      stopSweeper();
      await Promise.all(
        [api, metrics].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeIdleConnections();
            }),
        ),
      );
    },
  };
}
