-- Tenants, as declared by a StorageTenant resource (or a dev-mode YAML file).
CREATE TABLE tenants (
  id              text PRIMARY KEY,
  -- Who declared the tenant (e.g. "kubernetes:<namespace>/<name>"); another owner claiming the id is a conflict.
  owner           text NOT NULL,
  display_name    text NOT NULL DEFAULT '',
  -- The object-store bucket that holds this tenant's files; logical buckets are prefixes inside it.
  storage_bucket  text NOT NULL UNIQUE,
  quota_bytes     bigint NOT NULL CHECK (quota_bytes >= 0),
  max_file_size   bigint NOT NULL CHECK (max_file_size > 0),
  rate_limits     jsonb NOT NULL DEFAULT '{}'::jsonb,
  allowed_origins text[] NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Kept apart from tenants so that usage updates never contend with spec updates.
CREATE TABLE tenant_usage (
  tenant_id      text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  used_bytes     bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
  reserved_bytes bigint NOT NULL DEFAULT 0 CHECK (reserved_bytes >= 0),
  file_count     bigint NOT NULL DEFAULT 0 CHECK (file_count >= 0)
);

-- Bytes promised to writes in progress. A live writer keeps pushing expires_at forward; the sweeper
-- releases reservations that expired (their writer died) and removes their half-written objects.
CREATE TABLE quota_reservations (
  id           uuid PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  bytes        bigint NOT NULL CHECK (bytes >= 0),
  object_key   text,
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quota_reservations_expiry ON quota_reservations (expires_at);

CREATE TABLE api_keys (
  id              uuid PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name            text NOT NULL,
  key_hash        bytea NOT NULL UNIQUE,        -- SHA-256 of the raw key; the raw key is never stored
  prefix          text NOT NULL,                -- shown to people, e.g. stw_live_ab12
  scopes          text[] NOT NULL,
  mode            text NOT NULL CHECK (mode IN ('live', 'test')),
  allowed_origins text[],                       -- NULL: the tenant's list applies
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz                   -- may lie ahead: the grace period of a rotated key
);
CREATE INDEX api_keys_by_name ON api_keys (tenant_id, name);
CREATE INDEX api_keys_by_prefix ON api_keys (prefix);

CREATE TABLE buckets (
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name          text NOT NULL,
  public_default boolean NOT NULL DEFAULT true,
  allowed_types text[] NOT NULL DEFAULT '{}',
  declared      boolean NOT NULL DEFAULT false,  -- declared in the spec, as opposed to made by an upload
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE files (
  id                  uuid PRIMARY KEY,
  tenant_id           text NOT NULL,
  bucket              text NOT NULL,
  key                 text NOT NULL,             -- <uuid>.<ext>
  original_name       text NOT NULL,
  mimetype            text NOT NULL,
  size                bigint NOT NULL CHECK (size >= 0),
  etag                text NOT NULL,
  allow_public_access boolean NOT NULL,
  status              text NOT NULL DEFAULT 'ready' CHECK (status IN ('uploading', 'ready')),
  -- none | pending | ready | failed, and per variant {status, size} once the worker reports
  variant_status      text NOT NULL DEFAULT 'none' CHECK (variant_status IN ('none', 'pending', 'ready', 'failed')),
  variants            jsonb NOT NULL DEFAULT '{}'::jsonb,
  variant_bytes       bigint NOT NULL DEFAULT 0,  -- counted in the tenant's usage with the original
  created_at          timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, bucket) REFERENCES buckets (tenant_id, name) ON DELETE CASCADE,
  UNIQUE (tenant_id, bucket, key)
);
CREATE INDEX files_page ON files (tenant_id, bucket, created_at, id);

-- Outbox of variant jobs: written in the same transaction as the file, so a queue outage loses nothing.
CREATE TABLE variant_jobs (
  id            bigserial PRIMARY KEY,
  file_id       uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz
);
CREATE INDEX variant_jobs_pending ON variant_jobs (id) WHERE dispatched_at IS NULL;
