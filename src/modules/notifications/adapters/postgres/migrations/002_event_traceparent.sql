-- The W3C trace context of the consumer that recorded an event (null without tracing), so the
-- worker's sends continue that order's trace.
alter table events add column traceparent text;
