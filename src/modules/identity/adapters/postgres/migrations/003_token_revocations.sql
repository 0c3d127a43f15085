-- Access tokens refused before they expire: every token of one session (refresh-token family), or
-- every token of one user issued before a moment. A row is needed only while a token it refuses
-- could still be accepted (the access-token lifetime plus the clock skew), then it is pruned.
create table token_revocations (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('session', 'user')),
  -- The family id for a session, the user id for a user.
  subject text not null,
  -- For a user: tokens issued (iat) before this are refused.
  issued_before timestamptz,
  expires_at timestamptz not null,
  reason text not null,
  created_at timestamptz not null,
  check ((kind = 'user') = (issued_before is not null))
);
create index token_revocations_expires_at on token_revocations (expires_at);

-- A disabled account cannot sign in or refresh, and its tokens were revoked when it was disabled.
alter table users add column disabled_at timestamptz;

-- Families are also revoked by a password change, an account being disabled and an admin.
alter table refresh_token_families drop constraint refresh_token_families_revoked_reason_check;
alter table refresh_token_families add constraint refresh_token_families_revoked_reason_check
  check (revoked_reason in ('logout', 'reuse', 'password-change', 'role-change', 'disabled', 'admin', 'password-reset'));
