-- What `stowage check --record` found (the chart's CronJob runs it over every tenant). The operator
-- exports the latest run as stowage_check_findings{tenant,kind}, so a check that runs for a minute a day
-- stays visible to Prometheus, and alerted on, until the next run. Runs older than 90 days are removed
-- when a new one is recorded.
CREATE TABLE consistency_checks (
  id          bigserial PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  repaired    boolean NOT NULL,         -- run with --repair: `findings` counts what was left
  -- {"<tenant>": {"<kind>": <count>}}: only the tenants and kinds with findings
  findings    jsonb NOT NULL
);
CREATE INDEX consistency_checks_latest ON consistency_checks (finished_at DESC);
