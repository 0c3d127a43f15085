create table users (
  id text primary key,
  -- Stored normalised (trimmed, lower-case) by the application; unique in that form.
  email text not null unique,
  password_hash text not null,
  roles text[] not null,
  created_at timestamptz not null
);

-- One family per sign-in; revoking it ends every refresh token descended from that sign-in.
create table refresh_token_families (
  id text primary key,
  user_id text not null references users (id),
  created_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text check (revoked_reason in ('logout', 'reuse'))
);
create index refresh_token_families_user_id on refresh_token_families (user_id);

-- Only the SHA-256 digest of a refresh token is stored; the token itself is never.
create table refresh_tokens (
  token_hash text primary key,
  family_id text not null references refresh_token_families (id) on delete cascade,
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index refresh_tokens_family_id on refresh_tokens (family_id);
create index refresh_tokens_expires_at on refresh_tokens (expires_at);

-- Failed sign-ins, counted per normalised email and per client address in a sliding window.
create table login_failures (
  id bigint generated always as identity primary key,
  subject_kind text not null check (subject_kind in ('email', 'ip')),
  subject text not null,
  failed_at timestamptz not null
);
create index login_failures_subject on login_failures (subject_kind, subject, failed_at);
create index login_failures_failed_at on login_failures (failed_at);

create table signing_keys (
  kid text primary key,
  algorithm text not null check (algorithm = 'ES256'),
  public_jwk jsonb not null,
  -- AES-256-GCM under the configured key-encryption key, with the kid as associated data.
  encrypted_private_jwk text not null,
  created_at timestamptz not null,
  retired_at timestamptz,
  -- When a retired key leaves the JWKS: its last token's expiry plus clock skew.
  published_until timestamptz,
  check ((retired_at is null) = (published_until is null))
);
-- Exactly one key signs at a time; a second concurrent rotation fails here instead of forking.
create unique index signing_keys_one_current on signing_keys ((true)) where retired_at is null;

create table service_clients (
  id text primary key,
  name text not null unique,
  -- SHA-256 digest of a 256-bit random secret.
  secret_hash text not null,
  created_at timestamptz not null
);
