-- Retention finds old webhook events by arrival: a BRIN index, since events arrive in time order,
-- costs the webhook's insert almost nothing.
create index webhook_events_received_at on webhook_events using brin (received_at);
