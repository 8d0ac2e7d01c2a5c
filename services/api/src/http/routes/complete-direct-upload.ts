import type { Request, Response } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { completeDirectUpload } from '../../uploads/direct-uploads.ts';
import { callerOf } from '../caller.ts';
import { uploadedView } from '../file-view.ts';
import { parseBody } from '../json-body.ts';

const body = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1), etag: z.string().min(1).max(256) }))
    .max(10_000)
    .optional(),
});

/**
 * POST /uploads/:id/complete `{parts?: [{partNumber, etag}]}` — checks the parts against the store and
 * records the file, answering like an upload. A mismatch discards the upload.
 */
export function finishDirectUpload(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const { parts } = parseBody(req, body);
    const file = await completeDirectUpload(deps, callerOf(res), String(req.params.id), parts);
    res.status(201).json(uploadedView(deps.config.http.publicUrl, file));
  };
}
