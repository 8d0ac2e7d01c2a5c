import type { Request, Response } from 'express';
import type { ApiDeps } from '../../deps.ts';
import { abortDirectUpload } from '../../uploads/direct-uploads.ts';
import { callerOf } from '../caller.ts';

/** POST /uploads/:id/abort — abandons a direct upload and releases its quota. */
export function cancelDirectUpload(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    await abortDirectUpload(deps, callerOf(res), String(req.params.id));
    res.json({ success: true, message: 'Upload aborted' });
  };
}
