-- Keys minted through the API (POST /keys) beside the keys a StorageTenant declares. Every key that
-- exists before this migration was made by the operator or dev mode, so existing rows are `resource`;
-- the default is dropped afterwards so that every new row has to say where it comes from.
ALTER TABLE api_keys
  ADD COLUMN source text NOT NULL DEFAULT 'resource' CHECK (source IN ('resource', 'api')),
  ADD COLUMN expires_at timestamptz,               -- NULL: never; a key past it is refused like a revoked one
  ADD COLUMN last_used_at timestamptz;             -- to the minute; written at most once a minute per process
ALTER TABLE api_keys ALTER COLUMN source DROP DEFAULT;
