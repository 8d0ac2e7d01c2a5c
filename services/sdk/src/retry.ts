import { abortedError, type StowageError } from './errors.ts';
import type { RetryOptions } from './types.ts';

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    retries: options.retries ?? 3,
    baseDelayMs: options.baseDelayMs ?? 300,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
  };
}

/** A request that failed: its error, how many retries came before, whether its body can be sent again. */
export interface Failure {
  error: StowageError;
  attempt: number;
  replayable: boolean;
}

/**
 * How long to wait before sending a failed request again, or undefined to give up. What is retried:
 * - 429 and 503 after their `Retry-After`: the API turned the request away without acting on it. One
 *   asking for a longer wait than `maxRetryAfterMs` fails at once instead; one without waits a backoff step.
 * - No answer (a network error) and a gateway's 502 or 504, after a backoff step with full jitter (a
 *   random wait up to the step, so clients that failed together do not come back together).
 * Only while the body can be sent again: no body, or bytes; never a one-shot stream that was read, even
 * in part. Nothing else: a 4xx says what to change, a 500 would happen again.
 *
 * Uploads are not idempotent (each stores a new file): when the answer to an upload that was stored is
 * lost, its retry stores the file a second time. That window (between storing and answering) is far
 * narrower than the ones retrying covers (a reset connection, a restarting API); the parts of a direct
 * upload have no such window, a part PUT again replaces itself.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  { error, attempt, replayable }: Failure,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= policy.retries || !replayable) return undefined;
  const backoff = () => random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  if (error.status === 429 || error.status === 503) {
    if (error.retryAfterMs === undefined) return backoff();
    return error.retryAfterMs <= policy.maxRetryAfterMs ? error.retryAfterMs : undefined;
  }
  const transient = error.code === 'NETWORK_ERROR' || error.status === 502 || error.status === 504;
  return transient ? backoff() : undefined;
}

/** Waits `ms`, or throws the call's ABORTED error as soon as its signal aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
