-- Set when the owner proves the address is theirs: a verification, reset or sign-in token mailed to it came back.
alter table users add column email_verified_at timestamptz;

-- Single-use tokens mailed to an account's address. Only the SHA-256 digest is stored; the token never.
create table account_tokens (
  token_hash text primary key,
  purpose text not null check (purpose in ('verify-email', 'password-reset', 'sign-in-link')),
  user_id text not null references users (id) on delete cascade,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
-- One live token per account and purpose: issuing a new one deletes the others.
create index account_tokens_user_purpose on account_tokens (user_id, purpose);
create index account_tokens_expires_at on account_tokens (expires_at);

-- When each kind of account email was last sent to an account, so nobody can flood an address.
create table account_email_sends (
  user_id text not null references users (id) on delete cascade,
  kind text not null check (kind in ('registration-notice', 'verify-email', 'password-reset', 'sign-in-link')),
  sent_at timestamptz not null,
  primary key (user_id, kind)
);
