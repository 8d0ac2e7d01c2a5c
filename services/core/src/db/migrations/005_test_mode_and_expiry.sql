-- Test mode: files uploaded with a test key live in a sandbox of their tenant, counted against a quota
-- of their own (quota.testStorage). Every file, reservation and direct upload says which mode it is
-- in; usage has a row per tenant and mode, so test bytes never move the live ones. Everything that
-- exists before this migration was made without a sandbox, so it is `live` (a test file is deleted a
-- day after upload: guessing wrong the other way would delete people's files). The defaults are
-- dropped afterwards so that every new row has to say its mode.
ALTER TABLE tenants
  ADD COLUMN test_quota_bytes bigint NOT NULL DEFAULT 1073741824 CHECK (test_quota_bytes >= 0);

ALTER TABLE tenant_usage ADD COLUMN mode text NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE tenant_usage DROP CONSTRAINT tenant_usage_pkey;
ALTER TABLE tenant_usage ADD PRIMARY KEY (tenant_id, mode);
INSERT INTO tenant_usage (tenant_id, mode) SELECT id, 'test' FROM tenants;
ALTER TABLE tenant_usage ALTER COLUMN mode DROP DEFAULT;

ALTER TABLE quota_reservations ADD COLUMN mode text NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE quota_reservations ALTER COLUMN mode DROP DEFAULT;

ALTER TABLE direct_uploads
  ADD COLUMN mode text NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test')),
  ADD COLUMN expires_in bigint CHECK (expires_in > 0);   -- the file's lifetime the upload asked for, in seconds
ALTER TABLE direct_uploads ALTER COLUMN mode DROP DEFAULT;

-- Expiry: a bucket may give its files a lifetime; a file past expires_at is gone for every route at once,
-- and the sweeper deletes it (objects, row, usage) soon after.
ALTER TABLE buckets ADD COLUMN expire_after_seconds bigint CHECK (expire_after_seconds > 0);

ALTER TABLE files
  ADD COLUMN mode text NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test')),
  ADD COLUMN expires_at timestamptz;               -- NULL: kept until deleted
ALTER TABLE files ALTER COLUMN mode DROP DEFAULT;
CREATE INDEX files_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;
