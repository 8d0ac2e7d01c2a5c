import type { Request, Response } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { presignParts } from '../../uploads/direct-uploads.ts';
import { callerOf } from '../caller.ts';
import { parseBody } from '../json-body.ts';

const body = z.object({ partNumbers: z.array(z.number().int()).min(1).max(1000) });

/** POST /uploads/:id/parts `{partNumbers}` — presigned URLs (15 minutes) to PUT those parts to. */
export function signUploadParts(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const { partNumbers } = parseBody(req, body);
    const parts = await presignParts(deps, callerOf(res), String(req.params.id), partNumbers);
    res.json({ success: true, parts });
  };
}
