-- Finished webhook deliveries are kept WEBHOOK_DELIVERY_RETENTION_DAYS (30 by default) and then removed
-- by the sweeper with their attempts; pending ones stay until they finish. The sweep finds them by age.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';
