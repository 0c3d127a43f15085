import type { Generated } from 'kysely';

/** The `identity.users` table as stored. */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  roles: string[];
  created_at: Date;
  disabled_at: Generated<Date | null>;
  email_verified_at: Generated<Date | null>;
}

/** The `identity.refresh_token_families` table as stored. */
export interface RefreshTokenFamiliesTable {
  id: string;
  user_id: string;
  created_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

/** The `identity.refresh_tokens` table as stored. */
export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  issued_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** The `identity.login_throttle_pairs` table as stored. */
export interface LoginThrottlePairsTable {
  account: string;
  address: string;
  failures: number;
  next_attempt_at: Date;
  last_attempt_at: Date;
}

/** The `identity.login_throttle_addresses` table as stored. */
export interface LoginThrottleAddressesTable {
  address: string;
  level: number;
  updated_at: Date;
}

/** The `identity.login_throttle_accounts` table as stored. */
export interface LoginThrottleAccountsTable {
  account: string;
  failures: number;
  next_attempt_at: Date;
  last_attempt_at: Date;
}

/** The `identity.signing_keys` table as stored. */
export interface SigningKeysTable {
  kid: string;
  algorithm: 'ES256';
  public_jwk: unknown;
  encrypted_private_jwk: string;
  created_at: Date;
  retired_at: Date | null;
  published_until: Date | null;
}

/** The `identity.token_revocations` table as stored. */
export interface TokenRevocationsTable {
  id: Generated<number>;
  kind: 'session' | 'user';
  subject: string;
  issued_before: Date | null;
  expires_at: Date;
  reason: string;
  created_at: Date;
}

/** The `identity.account_tokens` table as stored. */
export interface AccountTokensTable {
  token_hash: string;
  purpose: 'verify-email' | 'password-reset' | 'sign-in-link';
  user_id: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** The `identity.account_email_sends` table as stored. */
export interface AccountEmailSendsTable {
  user_id: string;
  kind: 'registration-notice' | 'verify-email' | 'password-reset' | 'sign-in-link';
  sent_at: Date;
}

/** The `identity.service_clients` table as stored. */
export interface ServiceClientsTable {
  id: string;
  name: string;
  secret_hash: string;
  created_at: Date;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type IdentityTables = {
  'identity.users': UsersTable;
  'identity.refresh_token_families': RefreshTokenFamiliesTable;
  'identity.refresh_tokens': RefreshTokensTable;
  'identity.login_throttle_pairs': LoginThrottlePairsTable;
  'identity.login_throttle_addresses': LoginThrottleAddressesTable;
  'identity.login_throttle_accounts': LoginThrottleAccountsTable;
  'identity.signing_keys': SigningKeysTable;
  'identity.service_clients': ServiceClientsTable;
  'identity.account_tokens': AccountTokensTable;
  'identity.account_email_sends': AccountEmailSendsTable;
  'identity.token_revocations': TokenRevocationsTable;
};

/** True for PostgreSQL's unique violation, on `constraint` when given. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = error as { code?: unknown; constraint?: unknown };
  return candidate.code === '23505' && (constraint === undefined || candidate.constraint === constraint);
}
