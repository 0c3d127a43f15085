import type { Generated } from 'kysely';

/** The `identity.users` table as stored. */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  roles: string[];
  created_at: Date;
}

/** The `identity.refresh_token_families` table as stored. */
export interface RefreshTokenFamiliesTable {
  id: string;
  user_id: string;
  created_at: Date;
  revoked_at: Date | null;
  revoked_reason: 'logout' | 'reuse' | null;
}

/** The `identity.refresh_tokens` table as stored. */
export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  issued_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** The `identity.login_failures` table as stored. */
export interface LoginFailuresTable {
  id: Generated<number>;
  subject_kind: 'email' | 'ip';
  subject: string;
  failed_at: Date;
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
  'identity.login_failures': LoginFailuresTable;
  'identity.signing_keys': SigningKeysTable;
  'identity.service_clients': ServiceClientsTable;
};

/** True for PostgreSQL's unique violation, on `constraint` when given. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = error as { code?: unknown; constraint?: unknown };
  return candidate.code === '23505' && (constraint === undefined || candidate.constraint === constraint);
}
