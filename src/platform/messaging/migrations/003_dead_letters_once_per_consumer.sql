-- One dead letter per (consumer, message): two overlapping attempts of the same message, or a
-- failure after a replay, update that row instead of adding another. Duplicates left by earlier
-- versions go first, keeping the latest of each.
delete from dead_letters older
  using dead_letters newer
  where newer.consumer = older.consumer and newer.message_id = older.message_id and newer.id > older.id;
alter table dead_letters add constraint dead_letters_consumer_message_id_key unique (consumer, message_id);
