import type { KeyRecord } from '@stowage/core';

/** An API key as GET /keys lists it: what it is and may do, never its secret. */
export function keyView(key: KeyRecord) {
  // A declared key replaced by rotation is revoked at the end of its grace period: to its holder, that
  // is when it expires. Keys revoked already are not shown.
  const ends = [key.expiresAt, key.revokedAt].filter((d): d is Date => d !== null);
  const expiresAt = ends.length ? new Date(Math.min(...ends.map((d) => d.getTime()))) : null;
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    mode: key.mode,
    source: key.source,
    allowedOrigins: key.allowedOrigins,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    expiresAt: expiresAt?.toISOString() ?? null,
  };
}
