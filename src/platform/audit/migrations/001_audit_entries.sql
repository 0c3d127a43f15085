-- The audit trail of administrative acts: one row per act, written in the transaction of the act
-- itself, so an act that rolls back leaves no entry and no entry exists without its act.
create table entries (
  id bigint generated always as identity primary key,
  -- The module whose data the act changed (in the single process every module shares this table).
  module text not null,
  -- Milliseconds, as a page cursor carries them: a finer time would let a page skip entries.
  occurred_at timestamptz not null default date_trunc('milliseconds', now()),
  -- The principal id, or 'cli' for a command run on the machine.
  actor_id text not null,
  actor_email text,
  -- `<module>.<what-happened>`, for example `catalog.price-changed`.
  action text not null,
  target_id text not null,
  client_address text,
  request_id text,
  before jsonb,
  after jsonb
);
create index entries_by_module_time on entries (module, occurred_at desc, id desc);

-- Append-only even for a role that owns the table or is a superuser: privileges are not enough
-- (a superuser bypasses them), so a trigger refuses every UPDATE, DELETE and TRUNCATE as well.
create function refuse_audit_change() returns trigger language plpgsql as $$
begin
  raise exception 'the audit trail is append-only: % on audit.entries is refused', tg_op
    using errcode = 'insufficient_privilege';
end
$$;
create trigger entries_append_only before update or delete on entries
  for each row execute function refuse_audit_change();
create trigger entries_never_truncated before truncate on entries
  for each statement execute function refuse_audit_change();
revoke update, delete, truncate on entries from public;
revoke update, delete, truncate on entries from current_user;
