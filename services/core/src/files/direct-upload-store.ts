import type pg from 'pg';
import type { KeyMode } from '../keys/api-key.ts';
import type { FileOwner } from './file-store.ts';

type Db = pg.Pool | pg.PoolClient;

export interface DirectUpload {
  id: string;
  tenantId: string;
  reservationId: string;
  bucket: string;
  fileKey: string;
  s3UploadId: string;
  originalName: string;
  declaredSize: number;
  partSize: number;
  allowPublicAccess: boolean;
  expiresAt: Date;
  /** The mode of the key that started it, which the file will be in. */
  mode: KeyMode;
  /** The file's lifetime in seconds, as the upload asked for it; undefined: none asked. */
  expiresIn: number | undefined;
}

interface Row {
  id: string;
  tenant_id: string;
  reservation_id: string;
  bucket: string;
  file_key: string;
  s3_upload_id: string;
  original_name: string;
  declared_size: string;
  part_size: string;
  allow_public_access: boolean;
  expires_at: Date;
  mode: KeyMode;
  expires_in: string | null;
}

const toUpload = (r: Row): DirectUpload => ({
  id: r.id,
  tenantId: r.tenant_id,
  reservationId: r.reservation_id,
  bucket: r.bucket,
  fileKey: r.file_key,
  s3UploadId: r.s3_upload_id,
  originalName: r.original_name,
  declaredSize: Number(r.declared_size),
  partSize: Number(r.part_size),
  allowPublicAccess: r.allow_public_access,
  expiresAt: r.expires_at,
  mode: r.mode,
  expiresIn: r.expires_in === null ? undefined : Number(r.expires_in),
});

export async function insertDirectUpload(db: Db, u: DirectUpload): Promise<void> {
  await db.query(
    `INSERT INTO direct_uploads (id, tenant_id, reservation_id, bucket, file_key, s3_upload_id, original_name,
       declared_size, part_size, allow_public_access, expires_at, mode, expires_in)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      u.id,
      u.tenantId,
      u.reservationId,
      u.bucket,
      u.fileKey,
      u.s3UploadId,
      u.originalName,
      u.declaredSize,
      u.partSize,
      u.allowPublicAccess,
      u.expiresAt,
      u.mode,
      u.expiresIn ?? null,
    ],
  );
}

/** A live direct upload of `owner`; undefined if unknown, another's, finished or swept. */
export async function getDirectUpload(
  db: Db,
  owner: FileOwner,
  id: string,
): Promise<DirectUpload | undefined> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM direct_uploads WHERE id = $1 AND tenant_id = $2 AND mode = $3 AND expires_at > now()',
    [id, owner.tenantId, owner.mode],
  );
  return rows[0] && toUpload(rows[0]);
}

/**
 * Takes a live direct upload for completing or aborting: only one caller gets it, and it is no longer
 * live for anyone else (it ends with its reservation, settled or released). In the same statement its
 * reservation's lifetime becomes `ttlMs`, a writer's, which the caller renews while it works: if the
 * caller dies, the sweeper releases the quota soon, where the upload's day would otherwise hold it.
 */
export async function claimDirectUpload(
  db: Db,
  owner: FileOwner,
  id: string,
  ttlMs: number,
): Promise<DirectUpload | undefined> {
  const { rows } = await db.query<Row>(
    `WITH claimed AS (
       UPDATE direct_uploads SET expires_at = now()
       WHERE id = $1 AND tenant_id = $2 AND mode = $3 AND expires_at > now() RETURNING *),
     held AS (
       UPDATE quota_reservations r SET expires_at = now() + make_interval(secs => $4::float8 / 1000)
       FROM claimed WHERE r.id = claimed.reservation_id)
     SELECT * FROM claimed`,
    [id, owner.tenantId, owner.mode, ttlMs],
  );
  return rows[0] && toUpload(rows[0]);
}
