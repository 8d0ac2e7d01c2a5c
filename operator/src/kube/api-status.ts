import { ApiException } from '@kubernetes/client-node';

/** Whether `error` is the API server answering with HTTP `code` (404 gone, 409 conflict...). */
export const hasStatus = (error: unknown, code: number): boolean =>
  error instanceof ApiException && error.code === code;

/** The Kubernetes Status message of an API error, which says what was wrong; else the error's own. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return typeof message === 'string' ? message : `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
