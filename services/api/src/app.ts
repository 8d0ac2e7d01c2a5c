import express from 'express';
import { Authenticator } from './auth/authenticator.ts';
import type { ApiDeps } from './deps.ts';
import { requireCaller } from './http/caller.ts';
import { corsPreflight } from './http/cors.ts';
import { errorHandler, notFound } from './http/error-handler.ts';
import { requestContext } from './http/request-context.ts';
import {
  limitFailedAuth,
  limitPerClient,
  limitPerKey,
  type KeyedClass,
} from './limits/rate-limit-middleware.ts';
import { RateLimits } from './limits/rate-limits.ts';
import { deleteBucket } from './http/routes/delete-bucket.ts';
import { cancelDirectUpload } from './http/routes/abort-direct-upload.ts';
import { finishDirectUpload } from './http/routes/complete-direct-upload.ts';
import { startDirectUpload } from './http/routes/create-direct-upload.ts';
import { createSignedUrl } from './http/routes/create-signed-url.ts';
import { signUploadParts } from './http/routes/sign-upload-parts.ts';
import { deleteFile } from './http/routes/delete-file.ts';
import { getFileMetadata } from './http/routes/get-file.ts';
import { getTenantUsage } from './http/routes/get-usage.ts';
import { liveness, readiness } from './http/routes/health.ts';
import { listBucketFiles } from './http/routes/list-files.ts';
import { serveFile } from './http/routes/serve-file.ts';
import { putFile } from './http/routes/put-file.ts';
import { uploadFile } from './http/routes/upload-file.ts';

/** The REST API as an express app. */
export function createApp(deps: ApiDeps): express.Express {
  const auth = new Authenticator(deps.pool, deps.config.keyCacheTtlMs);
  const json = express.json({ limit: '16kb' });
  const limits = new RateLimits(deps.redis, deps.metrics);
  const caller = (scope: 'read' | 'write' | 'admin', routeClass: KeyedClass) => [
    requireCaller(auth, scope, (req, res) => limitFailedAuth(limits, deps.config.authFailureLimit, req, res)),
    limitPerKey(limits, routeClass),
  ];

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.http.trustProxy);
  app.set('etag', false);
  app.use(requestContext(deps.logger, deps.metrics));
  app.use(corsPreflight(deps.pool));

  app.get('/healthz', liveness);
  app.get('/readyz', readiness(deps));

  app.post('/upload/:bucket', caller('write', 'upload'), uploadFile(deps));
  app.put('/upload/:bucket/:filename', caller('write', 'upload'), putFile(deps));
  app.post('/uploads/:bucket', caller('write', 'upload'), json, startDirectUpload(deps));
  app.post('/uploads/:id/parts', caller('write', 'upload'), json, signUploadParts(deps));
  app.post(
    '/uploads/:id/complete',
    caller('write', 'upload'),
    express.json({ limit: '1mb' }),
    finishDirectUpload(deps),
  );
  app.post('/uploads/:id/abort', caller('write', 'upload'), cancelDirectUpload(deps));
  app.get('/files/:bucket', caller('read', 'list'), listBucketFiles(deps));
  app.get('/files/:bucket/:key', caller('read', 'list'), getFileMetadata(deps));
  app.post('/files/signed-url', caller('read', 'list'), json, createSignedUrl(deps));
  app.post('/files/delete', caller('write', 'delete'), json, deleteFile(deps));
  app.post('/files/delete-bucket', caller('admin', 'delete'), json, deleteBucket(deps));
  app.get('/usage', caller('read', 'usage'), getTenantUsage(deps));
  app.get(
    '/:tenantId/:bucket/:filename',
    limitPerClient(limits, deps.config.serveRateLimit),
    serveFile(deps, auth),
  );

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
