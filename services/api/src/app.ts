import express from 'express';
import type { AuditWriter } from './audit/audit-writer.ts';
import { Authenticator } from './auth/authenticator.ts';
import type { ApiDeps } from './deps.ts';
import { auditTrail } from './http/audit-trail.ts';
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
import { abortDirectUpload } from './http/routes/abort-direct-upload.ts';
import { completeDirectUpload } from './http/routes/complete-direct-upload.ts';
import { createDirectUpload } from './http/routes/create-direct-upload.ts';
import { createSignedUrl } from './http/routes/create-signed-url.ts';
import { signUploadParts } from './http/routes/sign-upload-parts.ts';
import { deleteFile } from './http/routes/delete-file.ts';
import { deleteFiles } from './http/routes/delete-files.ts';
import { getFile } from './http/routes/get-file.ts';
import { getUsage } from './http/routes/get-usage.ts';
import { getHealthz, getReadyz } from './http/routes/health.ts';
import { listFiles } from './http/routes/list-files.ts';
import { getOpenapi } from './http/routes/get-openapi.ts';
import { expressHandler, type AnyRoute } from './http/route.ts';
import { serveFile } from './http/routes/serve-file.ts';
import { putFile } from './http/routes/put-file.ts';
import { uploadFile } from './http/routes/upload-file.ts';
import { listKeys } from './http/routes/list-keys.ts';
import { createKey } from './http/routes/create-key.ts';
import { revokeKey } from './http/routes/revoke-key.ts';
import { getTenant } from './http/routes/get-tenant.ts';
import { updateFile } from './http/routes/update-file.ts';
import { listAudit } from './http/routes/list-audit.ts';
import { listWebhookDeliveries } from './http/routes/list-webhook-deliveries.ts';
import { retryWebhookDelivery } from './http/routes/retry-webhook-delivery.ts';

/** Every route declared with a contract, in the order the document lists them. */
export function declaredRoutes(
  deps: ApiDeps,
  auth = new Authenticator(deps, deps.config.keyCacheTtlMs),
): AnyRoute[] {
  const routes: AnyRoute[] = [
    listFiles(deps),
    getFile(deps),
    updateFile(deps),
    deleteFile(deps),
    deleteFiles(deps),
    deleteBucket(deps),
    createSignedUrl(deps),
    getUsage(deps),
    getHealthz(),
    getReadyz(deps),
    uploadFile(deps),
    putFile(deps),
    createDirectUpload(deps),
    signUploadParts(deps),
    completeDirectUpload(deps),
    abortDirectUpload(deps),
    listKeys(deps),
    createKey(deps),
    revokeKey(deps),
    getTenant(deps),
    listAudit(deps),
    listWebhookDeliveries(deps),
    retryWebhookDelivery(deps),
  ];
  routes.push(getOpenapi(deps, () => routes));
  // Last: it matches any three path segments, so every other route must be tried before it.
  routes.push(...serveFile(deps, auth));
  return routes;
}

/** JSON bodies up to this size unless a route says otherwise. */
const JSON_BODY_BYTES = 16 * 1024;

/** The REST API as an express app; what no transaction records goes to the audit log through `audit`. */
export function createApp(deps: ApiDeps, audit: AuditWriter): express.Express {
  const auth = new Authenticator(deps, deps.config.keyCacheTtlMs);
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

  for (const route of declaredRoutes(deps, auth)) {
    const { method, path, access, body, limitPerClient: perMinute } = route.contract;
    app[method](
      path,
      ...(perMinute === undefined ? [] : [limitPerClient(limits, perMinute)]),
      ...(access === 'public'
        ? []
        : [auditTrail(audit, route.contract), ...caller(access.scope, access.limit)]),
      ...(body && 'json' in body ? [express.json({ limit: body.maxBytes ?? JSON_BODY_BYTES })] : []),
      expressHandler(route),
    );
  }

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
