import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { listen, serveMetrics } from '@stowage/core';
import { createApp } from './app.ts';
import { AuditWriter, type AuditWriterOptions } from './audit/audit-writer.ts';
import type { ApiDeps } from './deps.ts';
import { answerClientErrors } from './http/client-errors.ts';
import { startSweeper } from './uploads/sweeper.ts';

export interface RunningApi {
  /** Where the API listens, e.g. http://127.0.0.1:8080 (the real port when 0 was asked for). */
  url: string;
  metricsUrl: string;
  /**
   * Stops the API: for `http.shutdownDelayMs` it goes on answering, every answer closing its connection
   * so that no client keeps one to a stopping process; then it stops listening, lets the requests in
   * flight finish and closes the connections.
   */
  close(): Promise<void>;
}

/** Starts the API, its metrics endpoint (on a port of its own) and the sweeper (expired files, abandoned uploads). */
export async function startApi(
  deps: ApiDeps,
  options: { sweepIntervalMs?: number; audit?: AuditWriterOptions } = {},
): Promise<RunningApi> {
  const { http } = deps.config;
  const audit = new AuditWriter(deps, options.audit);
  // Socket buffers of 256 KiB instead of 16 KiB: large files stream with far fewer stalls between the
  // client and the store (downloads about 1.3x faster), at a bounded cost per connection.
  const api = createServer({ highWaterMark: 256 * 1024 }, createApp(deps, audit));
  answerClientErrors(api, deps.logger);
  let draining = false;
  api.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('connection', 'close');
  });
  // Large uploads may take a long time, so no limit on a whole request; a socket idle for two minutes
  // (a stalled or slowloris client) is closed, which aborts its upload and releases its quota.
  api.requestTimeout = 0;
  api.timeout = 120_000;
  api.headersTimeout = 60_000;
  api.keepAliveTimeout = 65_000;
  const url = await listen(api, http.port, http.host);
  const { url: metricsUrl, server: metrics } = await serveMetrics(
    deps.metrics.registry,
    http.metricsPort,
    http.host,
  );
  const stopSweeper = startSweeper(deps, options.sweepIntervalMs ?? deps.config.sweepIntervalMs);
  return {
    url,
    metricsUrl,
    async close() {
      draining = true;
      await sleep(http.shutdownDelayMs);
      await stopSweeper();
      await Promise.all(
        [api, metrics].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeIdleConnections();
            }),
        ),
      );
      // After the servers: the requests they finished have logged what they did.
      await audit.close();
    },
  };
}
