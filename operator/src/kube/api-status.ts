import { ApiException } from '@kubernetes/client-node';

/** Whether `error` is the API server answering with HTTP `code` (404 gone, 409 conflict...). */
export const hasStatus = (error: unknown, code: number): boolean =>
  error instanceof ApiException && error.code === code;
