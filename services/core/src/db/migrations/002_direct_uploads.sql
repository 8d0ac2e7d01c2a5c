-- Multipart uploads that clients send straight to S3 with presigned part URLs. The quota is reserved
-- when one is created; the row goes with its reservation, so when the sweeper releases an abandoned
-- upload's reservation (and aborts it in S3) the row is gone too.
CREATE TABLE direct_uploads (
  id                  uuid PRIMARY KEY,
  tenant_id           text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  reservation_id      uuid NOT NULL UNIQUE REFERENCES quota_reservations (id) ON DELETE CASCADE,
  bucket              text NOT NULL,
  file_key            text NOT NULL,       -- <uuid>.<ext>
  s3_upload_id        text NOT NULL,
  original_name       text NOT NULL,
  declared_size       bigint NOT NULL CHECK (declared_size > 0),
  part_size           bigint NOT NULL CHECK (part_size > 0),
  allow_public_access boolean NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  expires_at          timestamptz NOT NULL
);
