-- Webhooks. A StorageTenant declares where to send events (`webhooks`, kept in sync like declared
-- buckets) and the operator hands over the secret that signs them. Events go to an outbox written in
-- the transaction of the change they report, one row per subscribed webhook, so no crash and no outage
-- of Redis or of the workers loses one; a tenant without webhooks writes no row at all.
ALTER TABLE tenants ADD COLUMN webhook_secret text;   -- whsec_…, as in the <resource>-webhooks Secret

CREATE TABLE webhooks (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name      text NOT NULL,
  url       text NOT NULL,
  events    text[] NOT NULL,                           -- event types, or '*' for all
  PRIMARY KEY (tenant_id, name)
);

-- One message for one webhook: its id is the `webhook-id` of every attempt, and `body` is sent (and
-- signed) exactly as stored. A worker claims a due delivery by pushing next_attempt_at past its send
-- timeout, so no other worker takes the same attempt while it is in flight.
CREATE TABLE webhook_deliveries (
  id              uuid PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  mode            text NOT NULL CHECK (mode IN ('live', 'test')),
  webhook         text NOT NULL,
  url             text NOT NULL,                       -- as declared when the event happened
  type            text NOT NULL,
  body            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_page ON webhook_deliveries (tenant_id, mode, created_at, id);

CREATE TABLE webhook_attempts (
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  started_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,                                 -- NULL: no answer (refused, timed out, unreachable)
  error       text,                                    -- why it failed; NULL when delivered
  PRIMARY KEY (delivery_id, attempt)
);
