import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { checkReadiness } from '../../health/readiness.ts';
import { defineRoute } from '../route.ts';

/** GET /healthz — the process is up. */
export function getHealthz() {
  return defineRoute({
    operationId: 'getHealthz',
    method: 'get',
    path: '/healthz',
    tag: 'Meta',
    summary: 'Liveness: the process is up',
    access: 'public',
    responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
  }).handle(async () => ({ status: 200, body: { status: 'ok' } }));
}

const failing = z
  .array(z.enum(['database', 'objectStore']))
  .meta({ description: 'Dependencies that do not answer' });
const degraded = z
  .array(z.literal('redis'))
  .meta({ description: 'Down without making the API unready: rate limits fall back to each process' });

/**
 * GET /readyz — 200 when the database and the object store answer, else 503 naming those that do not;
 * Redis being down is reported as `degraded` either way.
 */
export function getReadyz(deps: Pick<ApiDeps, 'pool' | 'store' | 'redis'>) {
  return defineRoute({
    operationId: 'getReadyz',
    method: 'get',
    path: '/readyz',
    tag: 'Meta',
    summary: 'Readiness: the database and the object store answer',
    access: 'public',
    responses: {
      200: {
        description: 'Ready for traffic',
        schema: z.object({ status: z.literal('ok'), failing: failing.max(0), degraded }),
      },
      503: {
        description: 'Not ready: a dependency does not answer',
        schema: z.object({ status: z.literal('unavailable'), failing: failing.min(1), degraded }),
      },
    },
  }).handle(async () => {
    const { failing, degraded } = await checkReadiness(deps);
    return failing.length
      ? { status: 503, body: { status: 'unavailable', failing, degraded } }
      : { status: 200, body: { status: 'ok', failing, degraded } };
  });
}
