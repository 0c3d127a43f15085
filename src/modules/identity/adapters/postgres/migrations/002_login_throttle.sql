-- Sign-in throttling by counters that are checked and counted in one statement, so concurrent
-- attempts cannot get past a budget together (a row per failure, counted before and written after
-- the password check, could). An attempt is counted as a failure before its password is checked and
-- given back when it succeeds. Accounts are the normalised email tried, whether or not it has an
-- account; addresses are client addresses (an IPv6 address by its /64).
drop table login_failures;

-- One account from one address: a delay that doubles with each failure past the first few.
create table login_throttle_pairs (
  account text not null,
  address text not null,
  failures integer not null check (failures >= 0),
  next_attempt_at timestamptz not null,
  last_attempt_at timestamptz not null,
  primary key (account, address)
);
create index login_throttle_pairs_last_attempt_at on login_throttle_pairs (last_attempt_at);

-- One address across all accounts (password spraying): a leaky bucket, `level` as of `updated_at`.
create table login_throttle_addresses (
  address text primary key,
  level double precision not null check (level >= 0),
  updated_at timestamptz not null
);
create index login_throttle_addresses_updated_at on login_throttle_addresses (updated_at);

-- One account across all addresses (guessing spread over many addresses): a mild, capped delay.
create table login_throttle_accounts (
  account text primary key,
  failures integer not null check (failures >= 0),
  next_attempt_at timestamptz not null,
  last_attempt_at timestamptz not null
);
create index login_throttle_accounts_last_attempt_at on login_throttle_accounts (last_attempt_at);
