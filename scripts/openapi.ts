// Prints the OpenAPI document of the API, as GET /openapi.json serves it, from the route contracts
// alone: the routes are built on embedded defaults but never run, so no server starts and no database
// is opened (a pg.Pool connects on its first query only).
import { tmpdir } from 'node:os';
import pg from 'pg';
import { RowCache, declaredRoutes, openApiDocument } from '@stowage/api';
import { FilesystemObjectStore, createApiMetrics, createLogger, loadConfig } from '@stowage/core';

const config = loadConfig({});
const pool = new pg.Pool();
const routes = declaredRoutes({
  config,
  pool,
  cache: new RowCache(pool, 0),
  store: new FilesystemObjectStore(tmpdir()),
  logger: createLogger({ name: 'openapi', level: 'silent' }),
  metrics: createApiMetrics(),
});
process.stdout.write(`${JSON.stringify(openApiDocument(routes, config.http.publicUrl), null, 2)}\n`);
