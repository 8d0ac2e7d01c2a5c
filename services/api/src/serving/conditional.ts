/** The validators a conditional request is checked against. */
export interface Validators {
  etag: string;
  lastModified: Date;
}

/**
 * Whether a conditional GET may be answered 304 Not Modified. If-None-Match decides when present (weak
 * comparison); If-Modified-Since only without it, to the second that Last-Modified carries.
 */
export function notModified(
  headers: { ifNoneMatch?: string | undefined; ifModifiedSince?: string | undefined },
  validators: Validators,
): boolean {
  const { ifNoneMatch, ifModifiedSince } = headers;
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === '*' || tag === validators.etag);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(validators.lastModified.getTime() / 1000) * 1000 <= since;
  }
  return false;
}
