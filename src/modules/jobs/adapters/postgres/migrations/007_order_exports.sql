-- Order exports run as jobs of their own kind, on their own queue. An export writes its file in
-- parts, one stored document each; a part's row commits with the job's progress, so a resumed
-- export starts after the last part recorded and rewrites, byte for byte, one written but not yet
-- recorded. The download streams the parts in order.
alter table jobs drop constraint jobs_kind_check;
alter table jobs add constraint jobs_kind_check check (kind in ('catalog-import', 'invoice', 'order-export'));

create table export_parts (
  job_id text not null references jobs (id) on delete cascade,
  part integer not null check (part >= 1),
  document_key text not null,
  orders integer not null check (orders >= 0),
  bytes bigint not null check (bytes >= 0),
  -- Where the part ended, in the orders module's full precision: the next part starts after this
  -- order. Null on the export's last part.
  next_placed_at text,
  next_order_id text,
  primary key (job_id, part)
);
