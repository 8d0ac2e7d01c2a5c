-- Every API process keeps the file rows and bucket settings it serves from in memory, and forgets them
-- when this channel says they changed (services/core/src/db/change-feed.ts). The triggers are on the
-- tables, so no writer can forget to announce a change: the API, the image worker, the sweeper, a
-- tenant's removal by the operator (its files and buckets go by cascade) and anyone with psql.
--
-- Payloads: `f:<id>,<id>...` (files), `b:<tenant>/<bucket>,...` (buckets), or `*` (forget everything)
-- when the list would not fit in a payload (8000 bytes). One notification per statement, whatever the
-- number of rows; PostgreSQL sends it when the transaction commits, and not at all if it rolls back.
CREATE FUNCTION notify_row_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text;
BEGIN
  IF TG_TABLE_NAME = 'files' THEN
    SELECT 'f:' || string_agg(id::text, ',') INTO changed FROM changed_rows;
  ELSE
    SELECT 'b:' || string_agg(tenant_id || '/' || name, ',') INTO changed FROM changed_rows;
  END IF;
  -- No rows (an upsert that did nothing): nothing to say.
  IF changed IS NOT NULL THEN
    PERFORM pg_notify('stowage_row_changes', CASE WHEN octet_length(changed) > 7900 THEN '*' ELSE changed END);
  END IF;
  RETURN NULL;
END $$;

-- A new file needs no announcement: no process can hold a row that did not exist (misses are not kept).
CREATE TRIGGER files_updated_notify AFTER UPDATE ON files
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_row_changes();
CREATE TRIGGER files_deleted_notify AFTER DELETE ON files
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_row_changes();
-- A bucket without a row has the default settings, and those are kept too: its insertion is a change.
CREATE TRIGGER buckets_inserted_notify AFTER INSERT ON buckets
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_row_changes();
CREATE TRIGGER buckets_updated_notify AFTER UPDATE ON buckets
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_row_changes();
CREATE TRIGGER buckets_deleted_notify AFTER DELETE ON buckets
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_row_changes();
