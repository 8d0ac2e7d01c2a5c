-- Who did what: one row per mutating request and per request refused at authentication (401, 403,
-- 429). Nothing of a key but its public prefix is kept. Entries for a committed change are written in
-- the change's own transaction; the others are written in batches off the request path.
CREATE TABLE audit_log (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  at              timestamptz NOT NULL DEFAULT now(),
  -- NULL: refused before a tenant was known (an unknown key, or none). The log goes with its tenant.
  tenant_id       text REFERENCES tenants (id) ON DELETE CASCADE,
  -- The key's mode (also read from the prefix of a refused key); NULL when no key was recognisable.
  mode            text CHECK (mode IN ('live', 'test')),
  key_prefix      text,
  action          text NOT NULL,                    -- the route's operationId, e.g. uploadFile
  bucket          text,
  object_key      text,
  status          smallint NOT NULL,
  request_id      text NOT NULL,
  client_address  text,
  user_agent      text,
  details         jsonb
);
-- GET /audit: a tenant's entries of one mode, newest first.
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, mode, at DESC, id DESC);
-- The retention sweep.
CREATE INDEX audit_log_by_time ON audit_log (at);
