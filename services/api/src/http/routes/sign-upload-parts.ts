import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { presignParts } from '../../uploads/direct-uploads.ts';
import { defineRoute } from '../route.ts';
import { uploadId } from '../schemas.ts';

const body = z.object({
  partNumbers: z
    .array(z.number().int().positive())
    .min(1)
    .max(1000)
    .meta({ description: "The parts to sign, from 1 to the upload's `partCount`" }),
});

const signed = z.object({
  success: z.literal(true),
  parts: z.array(
    z.object({
      partNumber: z.number().int().positive(),
      url: z.url().meta({ description: 'PUT the part here, exactly `partSize` bytes (the last: the rest)' }),
    }),
  ),
});

/** POST /uploads/:id/parts `{partNumbers}` — presigned URLs (15 minutes) to PUT those parts to. */
export function signUploadParts(deps: Pick<ApiDeps, 'pool' | 'store'>) {
  return defineRoute({
    operationId: 'signUploadParts',
    method: 'post',
    path: '/uploads/:id/parts',
    tag: 'Uploads',
    summary: "Presigned URLs for a direct upload's parts",
    description: 'Each URL is valid for 15 minutes and accepts exactly the bytes of its part.',
    access: { scope: 'write', limit: 'upload' },
    params: z.object({ id: uploadId }),
    body: { json: body },
    responses: { 200: { description: 'A URL per part', schema: signed } },
  }).handle(async ({ params: { id }, body: { partNumbers }, caller }) => {
    const parts = await presignParts(deps, caller, id, partNumbers);
    return { status: 200, body: { success: true, parts } };
  });
}
