/** What a mailed account token lets its holder do, once. */
export type AccountTokenPurpose = 'verify-email' | 'password-reset' | 'sign-in-link';

/**
 * How long a mailed token stays usable. Short for the two that sign someone in or change the
 * password; a day for an address check, which grants nothing by itself.
 */
export const accountTokenLifetimeSeconds: Readonly<Record<AccountTokenPurpose, number>> = {
  'verify-email': 24 * 60 * 60,
  'password-reset': 30 * 60,
  'sign-in-link': 15 * 60,
};

/**
 * A single-use token mailed to an account's address, known only by the digest of its value. An
 * account has at most one live token per purpose: a new one replaces the old.
 */
export interface AccountToken {
  readonly tokenHash: string;
  readonly purpose: AccountTokenPurpose;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** A new token for `userId` and `purpose`, valid from `now` for its purpose's lifetime. */
export function newAccountToken(input: { tokenHash: string; purpose: AccountTokenPurpose; userId: string }, now: Date): AccountToken {
  return { ...input, createdAt: now, expiresAt: new Date(now.getTime() + accountTokenLifetimeSeconds[input.purpose] * 1000) };
}
