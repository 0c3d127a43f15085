-- The W3C trace context of the command that queued an operation (null without tracing), so the
-- worker's provider call and the event it publishes continue that order's trace.
alter table operations add column traceparent text;
