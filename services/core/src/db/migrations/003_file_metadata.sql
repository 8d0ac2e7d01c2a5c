-- Tags, metadata and a modification time for files, and the indexes that let a listing filter a large
-- bucket without reading it all. pg_trgm ships with PostgreSQL (contrib) and PGlite, and is a trusted
-- extension: a database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE files
  ADD COLUMN tags       text[] NOT NULL DEFAULT '{}',   -- a set, kept sorted
  ADD COLUMN metadata   jsonb  NOT NULL DEFAULT '{}'::jsonb,
  -- When the file was uploaded or last changed through the API (PATCH); what `modifiedAfter` compares.
  ADD COLUMN updated_at timestamptz,
  -- The file's type category, as `type=` filters listings: the one definition of the categories.
  ADD COLUMN kind text NOT NULL GENERATED ALWAYS AS (
    CASE
      WHEN mimetype LIKE 'image/%' THEN 'image'
      WHEN mimetype LIKE 'video/%' THEN 'video'
      WHEN mimetype LIKE 'audio/%' THEN 'audio'
      WHEN mimetype LIKE 'text/%'
        OR mimetype IN ('application/pdf', 'application/rtf', 'application/postscript', 'application/xml',
                        'application/epub+zip', 'application/x-mobipocket-ebook', 'application/msword',
                        'application/vnd.ms-excel', 'application/vnd.ms-powerpoint')
        OR mimetype LIKE 'application/vnd.openxmlformats-officedocument.%'
        OR mimetype LIKE 'application/vnd.oasis.opendocument.%'
        OR mimetype LIKE 'application/vnd.ms-word.%'
        OR mimetype LIKE 'application/vnd.ms-excel.%'
        OR mimetype LIKE 'application/vnd.ms-powerpoint.%'
        THEN 'document'
      WHEN mimetype IN ('application/zip', 'application/x-tar', 'application/gzip', 'application/x-bzip2',
                        'application/x-xz', 'application/zstd', 'application/x-7z-compressed',
                        'application/x-rar-compressed', 'application/x-lz4', 'application/x-lzip',
                        'application/x-compress', 'application/x-cpio', 'application/x-arj',
                        'application/x-lzh-compressed', 'application/x-ace-compressed',
                        'application/vnd.ms-cab-compressed', 'application/x-unix-archive')
        THEN 'archive'
      ELSE 'other'
    END) STORED;
UPDATE files SET updated_at = created_at;
ALTER TABLE files ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN updated_at SET DEFAULT now();

-- Filters that are rare in one bucket may be common across the table: a word every tenant tags with,
-- a name every tenant uses. The planner's statistics are per column, for the whole table, so indexing
-- the bare values would have it walk a whole bucket in page order for a tag or name that is rare there,
-- or bitmap other tenants' files. So tags, names and types are indexed as "<tenant>/<bucket>/<value>"
-- (neither ids nor tags contain "/"): the statistics then count them per bucket, and the index finds
-- only the bucket's files. The queries must spell these expressions exactly as below.
CREATE FUNCTION file_scoped_tags(tenant_id text, bucket text, tags text[]) RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array(SELECT tenant_id || '/' || bucket || '/' || tag FROM unnest(tags) AS tag) $$;

-- Each filter of GET /files/:bucket has an index that reaches only the bucket's files. `kind` is read
-- in page order (no sort); the other filters find their matches, which are then sorted. Modification
-- times are estimated from table-wide statistics: if other tenants changed far more files lately than
-- this bucket did, a `modifiedAfter` page may be read in page order instead, stopping once it is full.
CREATE INDEX files_by_kind ON files (tenant_id, bucket, kind, created_at, id);
CREATE INDEX files_by_type ON files ((tenant_id || '/' || bucket || '/' || mimetype) text_pattern_ops, created_at, id);
CREATE INDEX files_by_tag ON files USING gin (file_scoped_tags(tenant_id, bucket, tags));
CREATE INDEX files_by_name ON files USING gin ((tenant_id || '/' || bucket || '/' || original_name) gin_trgm_ops);
CREATE INDEX files_by_update ON files (tenant_id, bucket, updated_at);
