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
import { getFile } from './http/routes/get-file.ts';
import { getUsage } from './http/routes/get-usage.ts';
import { getHealthz, getReadyz } from './http/routes/health.ts';
import { listFiles } from './http/routes/list-files.ts';
import { getOpenapi } from './http/routes/get-openapi.ts';
import { expressHandler, type AnyRoute } from './http/route.ts';
import { serveFile } from './http/routes/serve-file.ts';
import { putFile } from './http/routes/put-file.ts';
import { uploadFile } from './http/routes/upload-file.ts';

/** Every route declared with a contract, in the order the document lists them. */
export function declaredRoutes(deps: ApiDeps): AnyRoute[] {
  const routes: AnyRoute[] = [
    listFiles(deps),
    getFile(deps),
    deleteFile(deps),
    deleteBucket(deps),
    createSignedUrl(deps),
    getUsage(deps),
    getHealthz(),
    getReadyz(deps),
  ];
  routes.push(getOpenapi(deps, () => routes));
  return routes;
}

/** JSON bodies up to this size unless a route says otherwise. */
const JSON_BODY_BYTES = 16 * 1024;

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
  for (const route of declaredRoutes(deps)) {
    const { method, path, access, body } = route.contract;
    app[method](
      path,
      ...(access === 'public' ? [] : caller(access.scope, access.limit)),
      ...(body && 'json' in body ? [express.json({ limit: body.maxBytes ?? JSON_BODY_BYTES })] : []),
      expressHandler(route),
    );
  }
  app.get(
    '/:tenantId/:bucket/:filename',
    limitPerClient(limits, deps.config.serveRateLimit),
    serveFile(deps, auth),
  );

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
