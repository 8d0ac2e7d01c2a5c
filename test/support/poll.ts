import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Retries `probe` until it returns a value other than undefined. The deadline only stops a test that
 * would otherwise hang; it is not an assertion about speed.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  deadlineMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(200);
  }
  throw new Error(`gave up waiting for ${what}`, { cause: lastError });
}
