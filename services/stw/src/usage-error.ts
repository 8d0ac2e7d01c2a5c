/** A command given wrongly or with something missing: stw says why and exits with 2, like commander does. */
export class UsageError extends Error {
  override name = 'UsageError';
}
