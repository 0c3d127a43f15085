-- Retention finds old inbox rows by age: a BRIN index, since rows arrive in time order, costs the
-- inbox's hot insert almost nothing, unlike a B-tree on processed_at.
create index inbox_processed_at on inbox using brin (processed_at);
-- An inbox row whose message has an open dead letter is kept however old (a replay must find it);
-- that look-up uses the unique (consumer, message_id) index of dead letters (migration 003).
